"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from storage.schema import create_schema

POSTGRES_URL = os.environ.get("CLOSEBOT_TEST_POSTGRES_URL")


def _backends() -> list:
    params: list = [pytest.param("sqlite", id="sqlite")]
    params.append(
        pytest.param(
            "postgres",
            id="postgres",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="CLOSEBOT_TEST_POSTGRES_URL not set"),
        )
    )
    return params


# The worked examples of the books: one worker, one deal's accounting at a time. What they
# prove is the accounting; the SQL under it is the same bulk statements that the pipeline,
# failure, crash, NetSuite, Intacct, dry-run, go-live and Slack tests keep running on both
# databases, so a PostgreSQL run of these adds time and nothing else.
SQLITE_ONLY_MODULES = frozenset({
    "test_amendments.py", "test_ar_aging.py", "test_audit_money.py", "test_bank_payouts.py",
    "test_books_addon.py", "test_books_cancellation.py", "test_books_cash.py",
    "test_books_credit.py", "test_books_credit_erps.py", "test_books_drop.py",
    "test_books_renewal.py", "test_fx_revaluation_books.py", "test_revenue_allocation_erps.py",
    "test_subledger_modifications.py", "test_subledger_void_after_close.py",
    "test_books_tax.py", "test_books_term.py", "test_books_upsell.py", "test_books_void.py",
    "test_cash_salesforce.py", "test_expired_keys.py", "test_netsuite_billing.py",
    "test_netsuite_cash.py", "test_netsuite_setup.py", "test_stripe_term_retry.py",
    "test_unknown_deals.py",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `sqlite_only`, or in one of `SQLITE_ONLY_MODULES` under tests/integration,
    runs on SQLite alone: a scenario whose one worker never races another, where PostgreSQL
    would run the same statements again and prove nothing new (the queue's concurrency,
    leases and `SKIP LOCKED` keep their PostgreSQL runs)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgres"
        one_database = item.get_closest_marker("sqlite_only") is not None or (
            item.path.parent.name == "integration" and item.path.name in SQLITE_ONLY_MODULES)
        (dropped if on_postgres and one_database else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'closebot.db'}"
        return
    with postgres_database("closebot_test", migrated=True) as url:
        yield url


@contextmanager
def postgres_database(prefix: str, *, migrated: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards: empty, or `migrated` (a
    copy of the run's migrated template, as SQLite tests start from a copy of theirs)."""
    assert POSTGRES_URL
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = f' TEMPLATE "{_migrated_template()}"' if migrated else ""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    admin.dispose()
    url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    if migrated:
        _COPIES.add(url)
    try:
        yield url
    finally:
        _COPIES.discard(url)
        _DROPPER.drop(name)


_TEMPLATE: list[str] = []
_COPIES: set[str] = set()  # the databases made from the template, at head already


def _migrated_template() -> str:
    """A PostgreSQL database brought to the current schema once per run (the migrations take
    over a second; a copy of it a third of that). Nothing stays connected to it, so it can be
    copied; it is dropped with the tests' databases at the run's end."""
    if not _TEMPLATE:
        assert POSTGRES_URL
        name = f"closebot_template_{uuid.uuid4().hex[:10]}"
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        eng = make_engine(f"{POSTGRES_URL.rpartition('/')[0]}/{name}")
        create_schema(eng)
        eng.dispose()
        _TEMPLATE.append(name)
    return _TEMPLATE[0]


class _Dropper:
    """Drops finished tests' databases on a thread of its own: a DROP DATABASE waits for a
    checkpoint (over a second on a busy server), which the next test need not wait for. The
    run's end waits until every one is gone."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="drop-test-databases",
                                            daemon=True)
            self._thread.start()
        self._names.put(name)

    def finish(self) -> None:
        if self._thread is not None:
            self._names.put(None)
            self._thread.join(timeout=600)
            self._thread = None

    def _run(self) -> None:
        assert POSTGRES_URL
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            while (name := self._names.get()) is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


_DROPPER = _Dropper()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _TEMPLATE:
        _DROPPER.drop(_TEMPLATE.pop())
    _DROPPER.finish()


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database brought to the current schema once per run: each test's database
    starts as a copy of it (a file copy, not the migrations again)."""
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    eng = make_engine(f"sqlite:///{path}")
    create_schema(eng)
    eng.dispose()  # the write-ahead log folded into the file
    return path


@pytest.fixture
def engine(db_url: str, sqlite_migrated: Path) -> Iterator[Engine]:
    target = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
    copied = db_url in _COPIES
    if target is not None and not target.exists():
        shutil.copyfile(sqlite_migrated, target)
        copied = True
    eng = make_engine(db_url)
    if not copied:  # a copy of this run's migrated schema is at head: no need to load Alembic
        create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)
