"""cash: the accounts disputes post to, and the exceptions of money closebot couldn't book

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The ledger also seeds any missing account on start; a database upgraded either way ends the same.
ACCOUNTS = (
    ("1300", "Disputed Funds", "asset", "debit"),
    ("6300", "Dispute Fees", "expense", "debit"),
    ("6400", "Chargeback Losses", "expense", "debit"),
)


def upgrade() -> None:
    op.create_table(
        "cash_exceptions",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payout_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_cash_exceptions")),
    )
    for code, name, kind, normal in ACCOUNTS:
        op.execute(
            sa.text(
                "INSERT INTO ledger_accounts (code, name, kind, normal) "
                "SELECT :code, :name, :kind, :normal WHERE NOT EXISTS "
                "(SELECT 1 FROM ledger_accounts WHERE code = :code)"
            ).bindparams(code=code, name=name, kind=kind, normal=normal)
        )


def downgrade() -> None:
    op.drop_table("cash_exceptions")
    op.execute(sa.text("DELETE FROM ledger_accounts WHERE code IN ('1300', '6300', '6400')"))
