"""A batch of entries checked once (`storage.ledger_batch`) obeys the rule the row triggers
enforce: the same unbalanced writes are refused, nothing of a refused batch is kept, and the
triggers are back once the batch ends, however it ends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ledger_batch import TRIGGERS, UnbalancedBatch, checked_as_a_batch
from tests.unit.test_ledger_integrity import ENTRY, chart, line, raw_entries


def triggers(engine: Engine) -> set[str]:
    if engine.dialect.name != "sqlite":
        return set(TRIGGERS)  # PostgreSQL keeps its statement triggers; none is dropped
    with engine.connect() as conn:
        return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE 'ledger_journal_%'")))


def entry(entry_id: int, total: int = 100) -> str:
    return ENTRY.replace("900", str(entry_id)).replace("'raw'", f"'raw{entry_id}'").replace(
        "'JE-RAW'", f"'JE-RAW{entry_id}'").replace(", 100,", f", {total},")


def line_of(entry_id: int, no: int, account: str, debit: int, credit: int,
            currency: str = "USD") -> str:
    return line(no, account, debit, credit, currency).replace("(900,", f"({entry_id},")


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param([line(1, "1100", 60, 0), line(2, "2100", 0, 60), ENTRY], id="short-of-total"),
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 150), ENTRY], id="over-total"),
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 100)], id="no-entry"),
        pytest.param([ENTRY], id="no-lines"),
        pytest.param([line(1, "1100", 100, 0), line(2, "2100", 0, 100, "EUR"), ENTRY],
                     id="mixed-currency"),
        # Balanced entries first, then an unbalanced one further into the batch.
        pytest.param([line_of(901, 1, "1100", 5, 0), line_of(901, 2, "2100", 0, 5), entry(901, 5),
                      line(1, "1100", 100, 0), ENTRY], id="after-good-ones"),
    ],
)
def test_an_unbalanced_batch_is_refused_and_nothing_is_kept(
    sessions: sessionmaker[Session], engine: Engine, statements: list[str]
) -> None:
    chart(sessions)
    before = triggers(engine)
    with (pytest.raises((UnbalancedBatch, IntegrityError)), transaction(sessions) as session,
          checked_as_a_batch(session)):
        for stmt in statements:
            session.execute(text(stmt))
    assert raw_entries(engine) == 0
    assert triggers(engine) == before == set(TRIGGERS) | _append_only(engine)


def test_a_line_into_a_posted_entry_is_refused(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    chart(sessions)
    with transaction(sessions) as session:
        for stmt in [line(1, "1100", 100, 0), line(2, "2100", 0, 100), ENTRY]:
            session.execute(text(stmt))
    with (pytest.raises((UnbalancedBatch, IntegrityError)), transaction(sessions) as session,
          checked_as_a_batch(session)):
        for stmt in [line(3, "1100", 7, 0), line(4, "2100", 0, 7)]:
            session.execute(text(stmt))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM ledger_journal_lines")) == 2


def test_a_balanced_batch_commits_and_the_triggers_guard_again(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    ledger = chart(sessions)
    with transaction(sessions) as session, checked_as_a_batch(session):
        for n in (901, 902):
            for stmt in [line_of(n, 1, "1100", n, 0), line_of(n, 2, "2100", 0, n), entry(n, n)]:
                session.execute(text(stmt))
    assert ledger.unbalanced_entries() == []
    assert ledger.trial_balance("USD") == {"1100": 1803, "2100": -1803}
    assert triggers(engine) == set(TRIGGERS) | _append_only(engine)
    # Outside a batch the row triggers refuse an unbalanced entry again.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        for stmt in [line(1, "1100", 60, 0), line(2, "2100", 0, 50), ENTRY]:
            conn.execute(text(stmt))


def test_an_error_inside_a_batch_leaves_the_triggers(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    chart(sessions)
    with (pytest.raises(RuntimeError), transaction(sessions) as session,
          checked_as_a_batch(session)):
        session.execute(text(line(1, "1100", 100, 0)))
        raise RuntimeError("a failure half way through")
    assert triggers(engine) == set(TRIGGERS) | _append_only(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM ledger_journal_lines")) == 0


def _append_only(engine: Engine) -> set[str]:
    if engine.dialect.name != "sqlite":
        return set()
    return {f"{table}_no_{op}" for table in ("ledger_journal_entries", "ledger_journal_lines")
            for op in ("update", "delete")}


def test_a_refused_batch_is_undone_even_when_its_transaction_goes_on(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """A caller that catches the refusal and commits the rest of its transaction commits
    neither the batch's rows nor a schema without its triggers."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL checks at commit: the whole transaction is refused")
    chart(sessions)
    with transaction(sessions) as session:
        with pytest.raises(UnbalancedBatch), checked_as_a_batch(session):
            for stmt in [line(1, "1100", 100, 0), line(2, "2100", 0, 99), ENTRY]:
                session.execute(text(stmt))
        session.execute(text(line_of(903, 1, "1100", 3, 0)))
        session.execute(text(line_of(903, 2, "2100", 0, 3)))
        session.execute(text(entry(903, 3)))
    assert triggers(engine) == set(TRIGGERS) | _append_only(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT entry_id, SUM(debit_minor), SUM(credit_minor) "
                                 "FROM ledger_journal_lines GROUP BY entry_id")).all() == [
            (903, 3, 3)]
