"""ledger: voids and write-offs, sales tax, invoice lines linked to their obligations

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The chart lives in the database: the accounts these postings need join it here (the ledger
# also seeds any missing account on start, so a database upgraded either way ends the same).
ACCOUNTS = (
    ("2300", "Sales Tax Payable", "liability", "credit"),
    ("6200", "Bad Debt Expense", "expense", "debit"),
)


def upgrade() -> None:
    op.create_table(
        "ledger_invoice_closures",
        sa.Column("invoice_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_deferred_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_bad_debt_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("journal_entry_id", Id, nullable=True),
        sa.Column("id", Id, nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('void', 'uncollectible')", name=op.f("ck_ledger_invoice_closures_kind")
        ),
        sa.CheckConstraint(
            "amount_minor >= 0 AND to_deferred_minor >= 0 AND to_tax_minor >= 0",
            name=op.f("ck_ledger_invoice_closures_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["ledger_invoices.id"],
            name=op.f("fk_ledger_invoice_closures_invoice_id_ledger_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_invoice_closures_journal_entry_id_ledger_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_invoice_closures")),
        sa.UniqueConstraint("external_id", name=op.f("uq_ledger_invoice_closures_external_id")),
        sa.UniqueConstraint("number", name=op.f("uq_ledger_invoice_closures_number")),
    )
    with op.batch_alter_table("ledger_invoice_closures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_invoice_closures_invoice_id"), ["invoice_id"], unique=False
        )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger_invoice_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("sales_order_line_id", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_invoice_lines_sales_order_line_id_ledger_sales_order_lines"),
            "ledger_sales_order_lines",
            ["sales_order_line_id"],
            ["id"],
        )
    with op.batch_alter_table("ledger_revenue_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_by_id", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_revenue_schedules_stopped_by_id_ledger_invoice_closures"),
            "ledger_invoice_closures",
            ["stopped_by_id"],
            ["id"],
        )
    for code, name, kind, normal in ACCOUNTS:
        op.execute(
            sa.text(
                "INSERT INTO ledger_accounts (code, name, kind, normal) "
                "SELECT :code, :name, :kind, :normal WHERE NOT EXISTS "
                "(SELECT 1 FROM ledger_accounts WHERE code = :code)"
            ).bindparams(code=code, name=name, kind=kind, normal=normal)
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_revenue_schedules", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_revenue_schedules_stopped_by_id_ledger_invoice_closures"),
            type_="foreignkey",
        )
        batch_op.drop_column("stopped_by_id")
    with op.batch_alter_table("ledger_invoice_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_invoice_lines_sales_order_line_id_ledger_sales_order_lines"),
            type_="foreignkey",
        )
        batch_op.drop_column("sales_order_line_id")
        batch_op.drop_column("tax_minor")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("ledger_invoice_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_invoice_closures_invoice_id"))
    op.drop_table("ledger_invoice_closures")
    op.execute(sa.text("DELETE FROM ledger_accounts WHERE code IN ('2300', '6200')"))
