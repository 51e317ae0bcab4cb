"""SQLite's balance check for a batch of journal entries: one query over the batch instead of a
trigger per row.

On SQLite two row triggers keep the journal balanced (`storage.ledger`): each line refuses an
entry already posted, and each entry checks its lines. A month-end close writes 200,000 entries
and 400,000 lines, and each trigger firing costs about as much as the row it guards (SQLite
runs a trigger as a sub-program per row, whatever its body), so the two were a third of a
close. PostgreSQL checks once per transaction already (`storage.ledger_balance`).

Inside `checked_as_a_batch` the two triggers are dropped and, once the batch is written, the
same rule is checked for every line and entry the batch wrote, in two queries; then the
triggers are created again from their own stored text. It all runs in a savepoint of the
caller's transaction, which holds SQLite's write lock from its BEGIN IMMEDIATE: no other
connection writes while the triggers are away, and whatever ends the block (a refused batch,
an error, a crash) leaves the schema as it was, since a rollback or an unfinished transaction
takes the DDL back with the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session


class UnbalancedBatch(Exception):
    """A batch broke the ledger's rule; its savepoint is rolled back, nothing of it is kept."""


TRIGGERS = ("ledger_journal_lines_before_entry", "ledger_journal_entries_balanced")

# A line the batch wrote into an entry that was already posted.
_LATE_LINE = text(
    "SELECT entry_id FROM ledger_journal_lines WHERE id > :line AND entry_id <= :entry LIMIT 1")
# An entry the batch wrote whose lines (all written in the batch) don't add up to its total
# on both sides, or are in another currency, or are missing: the entry trigger's rule.
_UNBALANCED = text(
    "SELECT e.id FROM ledger_journal_entries AS e "
    "LEFT JOIN (SELECT entry_id, SUM(debit_minor) AS dr, SUM(credit_minor) AS cr, "
    "MIN(currency) AS low, MAX(currency) AS high FROM ledger_journal_lines WHERE id > :line "
    "GROUP BY entry_id) AS l ON l.entry_id = e.id "
    "WHERE e.id > :entry AND (l.entry_id IS NULL OR l.dr <> e.total_minor "
    "OR l.cr <> e.total_minor OR l.low <> e.currency OR l.high <> e.currency) LIMIT 1")


@contextmanager
def checked_as_a_batch(session: Session) -> Iterator[None]:
    """Write many entries (lines before entries, as always) with one check at the end."""
    if session.connection().dialect.name != "sqlite":
        yield  # PostgreSQL checks once per transaction at commit
        return
    with session.begin_nested():
        conn = session.connection()
        last_line = conn.execute(text("SELECT COALESCE(MAX(id), 0) "
                                      "FROM ledger_journal_lines")).scalar_one()
        last_entry = conn.execute(text("SELECT COALESCE(MAX(id), 0) "
                                       "FROM ledger_journal_entries")).scalar_one()
        stored = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
            f"({', '.join(repr(name) for name in TRIGGERS)})")).all()
        for name, _ in stored:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        yield
        bounds = {"line": last_line, "entry": last_entry}
        late = conn.execute(_LATE_LINE, bounds).scalar()
        if late is not None:
            raise UnbalancedBatch(f"ledger: journal entry {late} already posted; lines precede "
                                  "their entry")
        bad = conn.execute(_UNBALANCED, bounds).scalar()
        if bad is not None:
            raise UnbalancedBatch(f"ledger: unbalanced journal entry {bad}")
        for _, sql in stored:
            conn.exec_driver_sql(sql)
