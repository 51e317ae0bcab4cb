"""ledger: a cash entry records the legal entity whose own Stripe account it was booked from

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.drop_column("entity")
