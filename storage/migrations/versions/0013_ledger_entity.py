"""ledger: a cash entry records the legal entity whose own Stripe account it was booked from

Revision ID: 0013_ledger_entity
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_ledger_entity"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.drop_column("entity")
