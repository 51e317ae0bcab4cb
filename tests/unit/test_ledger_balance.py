"""The database's balance check sees every way lines reach an entry: many rows in one statement,
an entry and its lines in either order, a line moved to another entry, a leg deleted, a check
run early, a savepoint rolled back. PostgreSQL checks each touched entry once, at commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.bulk import insert_rows
from storage.db import transaction
from storage.ledger import LedgerJournalEntry, LedgerJournalLine
from storage.migrate import alembic_config, current, upgrade
from sync.ledger import Ledger

LINE_COLUMNS = ("entry_id", "line_no", "account_code", "debit_minor", "credit_minor", "currency")
ENTRY_COLUMNS = ("id", "number", "external_id", "memo", "posted_on", "currency", "total_minor",
                 "source_type", "source_ref")


def entry(entry_id: int, total: int) -> tuple[object, ...]:
    return (entry_id, f"JE-T{entry_id}", f"t:{entry_id}", "test", date(2024, 1, 1), "USD", total,
            "test", str(entry_id))


def legs(entry_id: int, debit: int, credit: int) -> list[tuple[object, ...]]:
    return [(entry_id, 1, "1100", debit, 0, "USD"), (entry_id, 2, "2100", 0, credit, "USD")]


def entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT COUNT(*) FROM ledger_journal_entries")) or 0


@pytest.fixture
def ledger(sessions: sessionmaker[Session]) -> Ledger:
    ledger = Ledger(sessions)
    ledger.upsert_customer(external_id="001", name="Acme", currency="USD")
    return ledger


@pytest.fixture
def posted(ledger: Ledger, sessions: sessionmaker[Session]) -> Ledger:
    """Two balanced entries: 901 (Dr 1100 300 / Cr 2100 300), 902 (Dr 1100 50 / Cr 2100 50)."""
    with transaction(sessions) as s:
        insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(901, 300, 300) +
                    legs(902, 50, 50))
        insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS, [entry(901, 300),
                                                                      entry(902, 50)])
    return ledger


@pytest.fixture
def pg(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the lines are edited with the append-only trigger off: PostgreSQL only")


def test_many_entries_in_one_statement_commit_when_all_balance(posted: Ledger) -> None:
    """1100: 300 + 50 = 350 debit; 2100: 350 credit."""
    assert posted.unbalanced_entries() == []
    assert posted.trial_balance("USD") == {"1100": 350, "2100": -350}


def test_one_unbalanced_entry_among_many_in_one_statement_is_refused(
    ledger: Ledger, sessions: sessionmaker[Session], engine: Engine
) -> None:
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS,
                    legs(901, 300, 300) + legs(902, 50, 49) + legs(903, 7, 7))
        insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS,
                    [entry(901, 300), entry(902, 50), entry(903, 7)])
    assert entries(engine) == 0


def test_a_line_added_to_a_posted_entry_is_refused(posted: Ledger, engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO ledger_journal_lines (entry_id, line_no, account_code, "
                          "debit_minor, credit_minor, currency) VALUES (901, 3, '1100', 5, 0, "
                          "'USD')"))
    assert posted.trial_balance("USD") == {"1100": 350, "2100": -350}


@pytest.fixture
def editable(engine: Engine, posted: Ledger, pg: None) -> Iterator[Connection]:
    """A transaction in which the journal's append-only triggers are off (ALTER TABLE is
    transactional: they are back on after it), so only the balance check stands."""
    with engine.connect() as conn:
        trans = conn.begin()
        for table in ("ledger_journal_entries", "ledger_journal_lines"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        yield conn
        if trans.is_active:
            trans.rollback()


@pytest.mark.parametrize(
    "stmt",
    [
        # 901 keeps Dr 300 with no credit; 902 gets Cr 300 + Cr 50 against Dr 50.
        pytest.param("UPDATE ledger_journal_lines SET entry_id = 902, line_no = 3 "
                     "WHERE entry_id = 901 AND line_no = 2", id="line-moved-to-another-entry"),
        pytest.param("DELETE FROM ledger_journal_lines WHERE entry_id = 902 AND line_no = 1",
                     id="one-leg-deleted"),
        pytest.param("UPDATE ledger_journal_lines SET debit_minor = 301 "
                     "WHERE entry_id = 901 AND line_no = 1", id="one-leg-changed"),
        pytest.param("UPDATE ledger_journal_lines SET currency = 'EUR' "
                     "WHERE entry_id = 901 AND line_no = 1", id="one-leg-other-currency"),
        pytest.param("UPDATE ledger_journal_entries SET total_minor = 51 WHERE id = 902",
                     id="entry-total-changed"),
        pytest.param("DELETE FROM ledger_journal_entries WHERE id = 902", id="entry-deleted"),
    ],
)
def test_an_edit_that_unbalances_an_entry_cannot_commit(
    editable: Connection, posted: Ledger, stmt: str
) -> None:
    editable.execute(text(stmt))
    with pytest.raises(IntegrityError):
        editable.commit()
    assert posted.trial_balance("USD") == {"1100": 350, "2100": -350}
    assert posted.unbalanced_entries() == []


def test_an_edit_that_keeps_entries_balanced_commits(editable: Connection, posted: Ledger) -> None:
    """902 grows from 50 to 80 on both legs and its total; with 901's 300: 1100 380 debit,
    2100 380 credit."""
    editable.execute(text("UPDATE ledger_journal_lines SET debit_minor = 80 "
                          "WHERE entry_id = 902 AND line_no = 1"))
    editable.execute(text("UPDATE ledger_journal_lines SET credit_minor = 80 "
                          "WHERE entry_id = 902 AND line_no = 2"))
    editable.execute(text("UPDATE ledger_journal_entries SET total_minor = 80 WHERE id = 902"))
    editable.commit()
    assert posted.trial_balance("USD") == {"1100": 380, "2100": -380}


def test_a_check_run_early_does_not_end_checking(
    ledger: Ledger, sessions: sessionmaker[Session], engine: Engine, pg: None
) -> None:
    """SET CONSTRAINTS ALL IMMEDIATE checks 901 there and then; 902, written after, is still
    checked at commit."""
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(901, 300, 300))
        insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS, [entry(901, 300)])
        s.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        s.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS, [entry(902, 50)])
        insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(902, 50, 40))
    assert entries(engine) == 0


def test_a_savepoint_rolled_back_leaves_the_rest_checked(
    ledger: Ledger, sessions: sessionmaker[Session], engine: Engine
) -> None:
    """The entry in the savepoint goes; 902 (Dr 50 / Cr 40), written before it, is refused."""
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(902, 50, 40))
        with s.begin_nested() as nested:
            insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(901, 300, 300))
            nested.rollback()
        insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS, [entry(902, 50)])
    assert entries(engine) == 0


def test_nothing_is_left_queued_after_commit(posted: Ledger, engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM ledger_unchecked_entries")) == 0
        assert conn.scalar(text("SELECT COUNT(*) FROM ledger_balance_checks")) == 0


def test_0016_downgrades_to_the_row_triggers_and_back(
    ledger: Ledger, sessions: sessionmaker[Session], engine: Engine
) -> None:
    """Down to 0015 and up again, the ledger still refuses 902 (Dr 50 / Cr 40) each time."""

    def refused() -> None:
        with pytest.raises(IntegrityError), transaction(sessions) as s:
            insert_rows(s, LedgerJournalLine.__table__, LINE_COLUMNS, legs(902, 50, 40))
            insert_rows(s, LedgerJournalEntry.__table__, ENTRY_COLUMNS, [entry(902, 50)])
        assert entries(engine) == 0

    command.downgrade(alembic_config(engine), "0015")
    assert current(engine) == "0015"
    refused()
    upgrade(engine)
    assert current(engine) == ScriptDirectory.from_config(
        alembic_config(engine)).get_current_head()
    refused()
