"""ledger: PostgreSQL checks each journal entry once per transaction, at commit

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.ledger_balance import (
    PG_BALANCE,
    PG_BALANCE_DROP,
    PG_ROW_BALANCED,
    pg_row_balance_triggers,
)

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ROW_TRIGGERS = ("ledger_journal_entries", "ledger_journal_lines")


def upgrade() -> None:
    # Both dialects get the tables (the models declare them); only PostgreSQL uses them:
    # SQLite checks an entry as it is inserted (0015).
    op.create_table(
        "ledger_unchecked_entries",
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "ledger_balance_checks",
        sa.Column("txid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("txid", name=op.f("pk_ledger_balance_checks")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # Always empty once a transaction commits: nothing in it is worth writing ahead.
    op.execute("ALTER TABLE ledger_unchecked_entries SET UNLOGGED")
    for table in _ROW_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_balanced ON {table}")
    op.execute("DROP FUNCTION IF EXISTS ledger_entry_balanced()")
    for stmt in PG_BALANCE:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for stmt in PG_BALANCE_DROP:
            op.execute(stmt)
        op.execute(PG_ROW_BALANCED)
        for stmt in pg_row_balance_triggers():
            op.execute(stmt)
    op.drop_table("ledger_balance_checks")
    op.drop_table("ledger_unchecked_entries")
