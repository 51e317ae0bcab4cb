"""payment invoices: the invoice each Stripe payment intent paid, so the cash run finds a
refund's or a dispute's invoice without asking Stripe

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_invoices",
        sa.Column("payment_id", sa.String(length=255), nullable=False),
        sa.Column("invoice_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment_invoices")),
    )


def downgrade() -> None:
    op.drop_table("payment_invoices")
