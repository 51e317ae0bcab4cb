"""Balanced, append-only, unique: the ledger's invariants hold in Python and in the database."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ledger import LedgerCustomer, LedgerInvoice, LedgerJournalEntry, ledger_ddl
from sync.ledger import InvoiceLineIn, Ledger, UnbalancedEntryError
from sync.ledger.journal import Leg, post_entry

ENTRY = (
    "INSERT INTO ledger_journal_entries (id, external_id, number, memo, posted_on, currency, "
    "total_minor, source_type, source_ref) VALUES (900, 'raw', 'JE-RAW', 'raw', '2024-01-01', "
    "'USD', 100, 'test', 'raw')"
)


def line(no: int, account: str, debit: int, credit: int, currency: str = "USD") -> str:
    return (
        "INSERT INTO ledger_journal_lines (entry_id, line_no, account_code, debit_minor, "
        f"credit_minor, currency) VALUES (900, {no}, '{account}', {debit}, {credit}, "
        f"'{currency}')"
    )


def chart(sessions: sessionmaker[Session]) -> Ledger:
    ledger = Ledger(sessions)
    ledger.upsert_customer(external_id="001", name="Acme", currency="USD")
    return ledger


def raw_entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT COUNT(*) FROM ledger_journal_entries")) or 0


@pytest.mark.parametrize(
    "legs",
    [
        [Leg("1100", debit=100), Leg("2100", credit=99)],
        [Leg("1100", debit=100)],
        [Leg("1100", debit=100, credit=100), Leg("2100", credit=0)],
        [Leg("1100", debit=-100), Leg("2100", credit=-100)],
        [Leg("1100", debit=1.5), Leg("2100", credit=1.5)],  # type: ignore[arg-type]
    ],
)
def test_unbalanced_entry_refused_by_python(
    sessions: sessionmaker[Session], engine: Engine, legs: list[Leg]
) -> None:
    chart(sessions)
    with pytest.raises(UnbalancedEntryError), transaction(sessions) as session:
        post_entry(
            session, external_id="bad", memo="bad", posted_on=date(2024, 1, 1), currency="USD",
            source_type="test", source_ref="bad", legs=legs,
        )
    assert raw_entries(engine) == 0


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param([ENTRY, line(1, "1100", 100, 0), line(2, "2100", 0, 60)], id="entry-first"),
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 60), ENTRY], id="lines-first"),
        pytest.param([line(1, "1100", 60, 0), line(2, "2100", 0, 60), ENTRY], id="short-of-total"),
        pytest.param([ENTRY, line(1, "1100", 100, 0), line(2, "2100", 0, 150)], id="over-total"),
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 100)], id="no-entry"),
        pytest.param([ENTRY], id="no-lines"),
        # Amounts add up, but one line is in EUR on a USD entry.
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 100, "EUR"), ENTRY],
                     id="mixed-currency"),
    ],
)
def test_unbalanced_entry_refused_by_database(
    sessions: sessionmaker[Session], engine: Engine, statements: list[str]
) -> None:
    """Raw SQL, no Python checks: the transaction can't commit (SQLite may refuse earlier)."""
    chart(sessions)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        for stmt in statements:
            conn.execute(text(stmt))
    assert raw_entries(engine) == 0


def test_balanced_raw_entry_commits(sessions: sessionmaker[Session], engine: Engine) -> None:
    chart(sessions)
    with engine.begin() as conn:
        for stmt in [line(1, "1100", 100, 0), line(2, "2100", 0, 100), ENTRY]:
            conn.execute(text(stmt))
    assert Ledger(sessions).unbalanced_entries() == []
    assert Ledger(sessions).trial_balance("USD") == {"1100": 100, "2100": -100}


@pytest.mark.parametrize(
    "stmt",
    [
        "UPDATE ledger_journal_lines SET debit_minor = debit_minor + 1",
        "UPDATE ledger_journal_entries SET total_minor = total_minor + 1",
        "UPDATE ledger_journal_entries SET memo = 'edited'",
        "DELETE FROM ledger_journal_lines",
        "DELETE FROM ledger_journal_entries",
    ],
)
def test_journal_is_append_only(sessions: sessionmaker[Session], engine: Engine, stmt: str) -> None:
    ledger = chart(sessions)
    ledger.post_invoice(
        external_id="in_1", customer_external_id="001", sales_order_external_id=None,
        number=None, currency="USD", issued_on=date(2024, 1, 1), due_on=date(2024, 1, 31),
        lines=[InvoiceLineIn("Setup", 500)],
    )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(stmt))
    assert ledger.trial_balance("USD") == {"1100": 500, "2100": -500}


def test_ddl_is_per_dialect() -> None:
    assert any("CONSTRAINT TRIGGER" in s for s in ledger_ddl("postgresql"))
    assert any("DEFERRABLE INITIALLY DEFERRED" in s for s in ledger_ddl("postgresql"))
    assert all("CREATE TRIGGER" in s for s in ledger_ddl("sqlite"))
    with pytest.raises(ValueError):
        ledger_ddl("mysql")


def test_concurrent_upserts_create_one_record(sessions: sessionmaker[Session]) -> None:
    chart(sessions)
    barrier = threading.Barrier(6)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        ledger = Ledger(sessions)
        try:
            barrier.wait()
            results.append(ledger.upsert_customer(external_id="002", name="Beta", currency="EUR"))
            results.append(
                ledger.post_invoice(
                    external_id="in_race", customer_external_id="002",
                    sales_order_external_id=None, number=None, currency="EUR",
                    issued_on=date(2024, 1, 1), due_on=date(2024, 1, 1),
                    lines=[InvoiceLineIn("Seats", 1234)],
                )
            )
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Every racer got the one winner's numbers (PostgreSQL numbers may skip the losers' ids).
    assert len(results) == 12
    assert sorted(n.partition("-")[0] for n in set(results)) == ["CUST", "INV"]
    with sessions() as s:
        assert s.scalar(select(func.count()).where(LedgerCustomer.external_id == "002")) == 1
        assert s.scalar(select(func.count()).select_from(LedgerInvoice)) == 1
        assert s.scalar(select(func.count()).select_from(LedgerJournalEntry)) == 1
    assert Ledger(sessions).trial_balance("EUR") == {"1100": 1234, "2100": -1234}
    assert Ledger(sessions).duplicate_external_ids() == []
