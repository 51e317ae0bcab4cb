"""ledger: a change order's line may be negative (a decrease re-plans the line it changes)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_sales_order_lines_amount"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_ledger_sales_order_lines_amount"), "amount_minor >= 0")
