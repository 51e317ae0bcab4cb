"""cash facts: refunds, disputes, charges and payouts the cash run booked, for the CRM
write-back and the chain of custody

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
INDEXED = ("opportunity_id", "customer_id", "payout_id")


def upgrade() -> None:
    op.create_table(
        "cash_facts",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=True),
        sa.Column("opportunity_id", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("payout_id", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("object_id", name=op.f("pk_cash_facts")),
    )
    for column in INDEXED:
        op.create_index(op.f(f"ix_cash_facts_{column}"), "cash_facts", [column])


def downgrade() -> None:
    for column in INDEXED:
        op.drop_index(op.f(f"ix_cash_facts_{column}"), table_name="cash_facts")
    op.drop_table("cash_facts")
