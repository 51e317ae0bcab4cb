"""fx: exchange rates, entries in the functional currency, the Realized FX Gain/Loss account

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Rate = sa.Numeric(24, 12)


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("id", Id, nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", Rate, nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.CheckConstraint("rate > 0", name=op.f("ck_fx_rates_rate")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("base", "quote", "on_date", name=op.f("uq_fx_rates_base_quote_on_date")),
    )
    op.create_table(
        "ledger_functional_lines",
        sa.Column("id", Id, nullable=False),
        sa.Column("entry_id", Id, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(length=8), nullable=False),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", Rate, nullable=False),
        sa.CheckConstraint(
            "(debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0)",
            name=op.f("ck_ledger_functional_lines_one_side"),
        ),
        sa.ForeignKeyConstraint(["account_code"], ["ledger_accounts.code"],
                                name=op.f("fk_ledger_functional_lines_account_code_ledger_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_functional_lines_entry_id_ledger_journal_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_functional_lines")),
    )
    for column in ("entry_id", "account_code"):
        op.create_index(op.f(f"ix_ledger_functional_lines_{column}"), "ledger_functional_lines",
                        [column])
    op.execute(
        sa.text(
            "INSERT INTO ledger_accounts (code, name, kind, normal) "
            "SELECT :code, :name, :kind, :normal WHERE NOT EXISTS "
            "(SELECT 1 FROM ledger_accounts WHERE code = :code)"
        ).bindparams(code="7100", name="Realized FX Gain/Loss", kind="other_income",
                     normal="credit")
    )


def downgrade() -> None:
    for column in ("entry_id", "account_code"):
        op.drop_index(op.f(f"ix_ledger_functional_lines_{column}"),
                      table_name="ledger_functional_lines")
    op.drop_table("ledger_functional_lines")
    op.drop_table("fx_rates")
    op.execute(sa.text("DELETE FROM ledger_accounts WHERE code = '7100'"))
