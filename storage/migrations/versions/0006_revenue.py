"""revenue: standalone selling prices, closed periods, and the contract price beside a sales order line's
allocated price

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standalone_selling_prices",
        sa.Column("product", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("low_minor", sa.BigInteger(), nullable=False),
        sa.Column("high_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "product", "currency", name=op.f("pk_standalone_selling_prices")
        ),
    )
    op.create_table(
        "ledger_periods",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_ledger_periods")),
    )
    with op.batch_alter_table("ledger_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_periods_ends_on"), ["ends_on"], unique=False)
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.drop_column("contract_minor")
    with op.batch_alter_table("ledger_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_periods_ends_on"))
    op.drop_table("ledger_periods")
    op.drop_table("standalone_selling_prices")
