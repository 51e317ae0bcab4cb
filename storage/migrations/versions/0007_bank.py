"""bank statement lines matched to Stripe payouts

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_lines",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payout_id", sa.String(length=64), nullable=True),
        sa.Column("matched_how", sa.String(length=24), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("payout_id"),
    )
    op.create_index("ix_bank_lines_open", "bank_lines", ["payout_id", "currency", "amount_minor"])


def downgrade() -> None:
    op.drop_index("ix_bank_lines_open", table_name="bank_lines")
    op.drop_table("bank_lines")
