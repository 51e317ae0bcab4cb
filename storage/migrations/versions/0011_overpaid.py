"""invoices: the overpayment Stripe credited to the customer and the credit it used

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
COLUMNS = ("amount_overpaid_minor", "credit_applied_minor")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("invoices", sa.Column(column, sa.BigInteger(), nullable=False,
                                            server_default="0"))


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column("invoices", column)
