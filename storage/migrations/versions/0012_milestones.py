"""ledger: a sales order line may be recognized by milestones (percent complete)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE = "recognition IN ('ratable', 'point_in_time')"
AFTER = "recognition IN ('ratable', 'point_in_time', 'milestone')"


def upgrade() -> None:
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_sales_order_lines_recognition"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_sales_order_lines_recognition"), AFTER)


def downgrade() -> None:
    with op.batch_alter_table("ledger_sales_order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_sales_order_lines_recognition"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_sales_order_lines_recognition"), BEFORE)
