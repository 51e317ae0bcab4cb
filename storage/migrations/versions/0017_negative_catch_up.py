"""ledger: a catch-up schedule row may be negative (a modification that lowers revenue already
recognized reduces it on the modification's day, ASC 606-10-25-13(b))

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NAME = "ck_ledger_revenue_schedules_amount"
# Only catch-up rows (numbered past 10,000, `sync.ledger.modification_replan.CATCH_UP_PERIOD`) go below zero.
_NOW = "amount_minor >= 0 OR period_no > 10000"
_BEFORE = "amount_minor >= 0"


def _check(rule: str) -> None:
    with op.batch_alter_table("ledger_revenue_schedules", schema=None,
                              recreate="always") as batch_op:
        batch_op.drop_constraint(batch_op.f(_NAME), type_="check")
        batch_op.create_check_constraint(batch_op.f(_NAME), rule)


def upgrade() -> None:
    _check(_NOW)


def downgrade() -> None:
    _check(_BEFORE)
