"""`closebot doctor`: every configured system, checked for real, one finding per line.

The database is looked at, never migrated (a doctor that upgrades would always find the schema
current) and never created. Each system is checked through the same connector closebot runs
with; a system that fails its first check is not asked the rest, which would only repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from app.doctor_slack import slack_checks
from app.settings import Settings
from app.wiring import NotConfigured, make_billing, make_crm, make_erp
from storage.db import make_engine, make_session_factory
from storage.ledger import LedgerAccount
from storage.migrate import alembic_config, current
from storage.tables import Cursor
from sync.connectors import intacct_checks, netsuite_checks, salesforce_checks, stripe_checks
from sync.ledger.accounts import CHART
from sync.ports import Check

T = TypeVar("T")


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, when it doesn't exist (opening it would create it)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(str(parsed.database))
    return None if path.exists() else path


def database_checks(settings: Settings) -> tuple[list[Check], Engine | None]:
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:
        return [Check("database", False, f"no closebot database at {missing}",
                      "run closebot db upgrade, or point DATABASE_URL at closebot's database")
                ], None
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        at = current(engine)
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    except SQLAlchemyError as error:
        engine.dispose()
        return [Check("database", False, f"can't connect ({type(error.orig or error).__name__})",
                      "check DATABASE_URL and that the database server is up")], None
    if at != head:
        return [Check("database", False, f"schema is at migration {at or 'none'}, closebot "
                                         f"needs {head}", "run closebot db upgrade")], engine
    try:
        with engine.connect() as conn, conn.begin() as trans:
            # A write closebot makes all the time, taken back: proves the role may write.
            conn.execute(insert(Cursor).values(name="closebot-doctor", value="probe"))
            trans.rollback()
    except SQLAlchemyError as error:
        return [Check("database", False, f"closebot's role can't write "
                                         f"({type(error.orig or error).__name__})",
                      "grant closebot's database role INSERT, UPDATE and DELETE on its tables")
                ], engine
    return [Check("database", True, f"reachable; schema at the latest migration ({head}); "
                                    "closebot's role can write")], engine


def ledger_checks(engine: Engine) -> list[Check]:
    with make_session_factory(engine)() as session:
        present = session.scalar(select(func.count()).select_from(LedgerAccount).where(
            LedgerAccount.code.in_([a.code for a in CHART]))) or 0
    if present == len(CHART):
        return [Check("ledger", True, f"chart of accounts complete ({present} accounts)")]
    return [Check("ledger", True, f"chart of accounts: {present} of {len(CHART)} accounts; "
                                  "closebot adds the rest on its first posting")]


def _connector_checks(system: str, build: Callable[[], T],
                      run: Callable[[T], list[Check]]) -> list[Check]:
    try:
        connector = build()
    except NotConfigured as missing:
        return [Check(system, False, f"not configured: {missing}",
                      "closebot config check shows what is set; README, “Pointing closebot at "
                      "the real systems”")]
    except Exception as error:  # a login refused while connecting; its text may echo input
        return [Check(system, False, f"can't sign in ({type(error).__name__})",
                      "check its settings with closebot config check")]
    return run(connector)


def run_doctor(settings: Settings) -> list[Check]:
    checks, engine = database_checks(settings)
    if settings.erp == "ledger" and engine is not None and checks[-1].ok:
        checks += ledger_checks(engine)
    checks += _connector_checks("Salesforce", lambda: make_crm(settings),
                                salesforce_checks.diagnose)
    key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    checks += _connector_checks("Stripe", lambda: make_billing(settings),
                                lambda billing: stripe_checks.diagnose(billing, key))
    if settings.erp == "netsuite":
        # NetSuite keeps nothing in closebot's database: an unbound session factory will do.
        checks += _connector_checks("NetSuite", lambda: make_erp(settings, sessionmaker()),
                                    netsuite_checks.diagnose)  # type: ignore[arg-type]
    if settings.erp == "intacct":
        checks += _connector_checks(
            "Sage Intacct", lambda: make_erp(settings, sessionmaker()),
            lambda erp: intacct_checks.diagnose(erp, settings.intacct_cash_accounts))  # type: ignore[arg-type]
    checks += slack_checks(settings)
    if engine is not None:
        engine.dispose()
    return checks
