"""ledger: SQLite checks an entry's balance in one pass over its lines

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

from storage.ledger import SQLITE_BALANCED

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The rule is unchanged (debits = credits = total, one currency); only how SQLite reads it.
_BEFORE = (
    "CREATE TRIGGER ledger_journal_entries_balanced BEFORE INSERT ON ledger_journal_entries "
    "WHEN (SELECT COALESCE(SUM(debit_minor), 0) FROM ledger_journal_lines "
    "WHERE entry_id = NEW.id) <> NEW.total_minor "
    "OR (SELECT COALESCE(SUM(credit_minor), 0) FROM ledger_journal_lines "
    "WHERE entry_id = NEW.id) <> NEW.total_minor "
    "OR EXISTS (SELECT 1 FROM ledger_journal_lines WHERE entry_id = NEW.id "
    "AND currency <> NEW.currency) "
    "BEGIN SELECT RAISE(ABORT, 'ledger: unbalanced journal entry'); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_journal_entries_balanced")
        op.execute(SQLITE_BALANCED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_journal_entries_balanced")
        op.execute(_BEFORE)
