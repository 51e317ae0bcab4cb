"""The embedded ledger's tables (prefix `ledger_`): closebot's default ERP, in its own database.

Every record carries the upstream key as a unique `external_id` and a human number
(`CUST-000001`, `SO-…`, `INV-…`, `PMT-…`, `CM-…`, `CL-…` for a void or write-off, `JE-…`).
Money is BigInteger minor units beside an ISO currency. Journal entries are append-only and
balanced; `ledger_ddl` adds the database side of that rule (triggers), which SQLAlchemy
constraints alone can't express.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base
from storage.ledger_balance import PG_ROW_BALANCED, pg_row_balance_triggers

# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-numbered rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
Minor = BigInteger
Currency = String(3)


class _Record:
    """Columns every upstream-keyed ledger record shares."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # asset, liability, revenue, contra_revenue, …
    normal: Mapped[str] = mapped_column(String(6))  # the side that increases it: debit | credit
    __table_args__ = (CheckConstraint("normal IN ('debit', 'credit')", name="normal"),)


class LedgerCustomer(_Record, Base):
    __tablename__ = "ledger_customers"
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(Currency)


class LedgerSalesOrder(_Record, Base):
    __tablename__ = "ledger_sales_orders"
    customer_id: Mapped[int] = mapped_column(ForeignKey("ledger_customers.id"), index=True)
    currency: Mapped[str] = mapped_column(Currency)
    total_minor: Mapped[int] = mapped_column(Minor)
    lines: Mapped[list[LedgerSalesOrderLine]] = relationship(
        order_by="LedgerSalesOrderLine.line_no"
    )


class LedgerSalesOrderLine(Base):
    __tablename__ = "ledger_sales_order_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("ledger_sales_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    # The obligation's line id; unique per order, since an amended contract version repeats it.
    external_id: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(Minor)  # allocated price: what it recognizes
    # The contract price the invoices bill, when allocation moved it (None: amount_minor).
    contract_minor: Mapped[int | None] = mapped_column(Minor, nullable=True)
    recurring: Mapped[bool]
    service_start: Mapped[date] = mapped_column(Date)
    service_end: Mapped[date] = mapped_column(Date)
    recognition: Mapped[str] = mapped_column(String(16))
    revenue_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    __table_args__ = (
        UniqueConstraint("sales_order_id", "external_id"),
        CheckConstraint("recognition IN ('ratable', 'point_in_time', 'milestone')",
                        name="recognition"),
        # Negative on a change order's decrease (sync/ledger/replan.py).
        CheckConstraint("service_end >= service_start", name="service_period"),
    )


class LedgerRevenueSchedule(Base):
    """One row per sales order line per recognition period; recognized once it has an entry."""

    __tablename__ = "ledger_revenue_schedules"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sales_order_line_id: Mapped[int] = mapped_column(ForeignKey("ledger_sales_order_lines.id"))
    period_no: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    recognize_on: Mapped[date] = mapped_column(Date, index=True)
    amount_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(Currency)
    revenue_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    # The void or write-off that took this period's billing back: it is never recognized.
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_invoice_closures.id"))
    __table_args__ = (
        UniqueConstraint("sales_order_line_id", "period_no"),
        # A negative catch-up (numbered past 10,000) lowers revenue recognized: the only
        # row below zero.
        CheckConstraint("amount_minor >= 0 OR period_no > 10000", name="amount"),
    )

    @property
    def recognized(self) -> bool:
        return self.journal_entry_id is not None


class LedgerInvoice(_Record, Base):
    __tablename__ = "ledger_invoices"
    billing_number: Mapped[str | None] = mapped_column(String(64))  # the biller's own number
    customer_id: Mapped[int] = mapped_column(ForeignKey("ledger_customers.id"), index=True)
    sales_order_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_sales_orders.id"))
    currency: Mapped[str] = mapped_column(Currency)
    total_minor: Mapped[int] = mapped_column(Minor)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    lines: Mapped[list[LedgerInvoiceLine]] = relationship(order_by="LedgerInvoiceLine.line_no")
    __table_args__ = (CheckConstraint("total_minor >= 0", name="total"),)


class LedgerInvoiceLine(Base):
    __tablename__ = "ledger_invoice_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("ledger_invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    amount_minor: Mapped[int] = mapped_column(Minor)  # may be negative (a discount line)
    recurring: Mapped[bool]
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # exclusive
    tax_minor: Mapped[int] = mapped_column(Minor, default=0, server_default=text("0"))
    # The sales order line (obligation) this line bills, when the biller's line names one.
    sales_order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_sales_order_lines.id"))


class LedgerPayment(_Record, Base):
    __tablename__ = "ledger_payments"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("ledger_invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(Currency)
    paid_on: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount"),)


class LedgerCreditMemo(_Record, Base):
    """A credit: the part within the invoice's open balance reduces AR, the rest is owed back."""

    __tablename__ = "ledger_credit_memos"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("ledger_invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(Minor)
    to_receivable_minor: Mapped[int] = mapped_column(Minor)
    to_customer_credit_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(Currency)
    reason: Mapped[str] = mapped_column(String(500))
    posted_on: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount"),
        CheckConstraint(
            "to_receivable_minor >= 0 AND to_customer_credit_minor >= 0 AND "
            "to_receivable_minor + to_customer_credit_minor = amount_minor",
            name="split",
        ),
    )


class LedgerInvoiceClosure(_Record, Base):
    """An invoice voided or written off: the open receivable taken out, split by where it went.

    `amount_minor` is the receivable closed; it went to deferred revenue (what was not earned
    yet), to revenue (a void: what was earned) or bad debt (a write-off), and to sales tax.
    """

    __tablename__ = "ledger_invoice_closures"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("ledger_invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(Minor)
    to_deferred_minor: Mapped[int] = mapped_column(Minor)
    to_revenue_minor: Mapped[int] = mapped_column(Minor)
    to_bad_debt_minor: Mapped[int] = mapped_column(Minor)
    to_tax_minor: Mapped[int] = mapped_column(Minor)
    currency: Mapped[str] = mapped_column(Currency)
    posted_on: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    __table_args__ = (
        CheckConstraint("kind IN ('void', 'uncollectible')", name="kind"),
        CheckConstraint("amount_minor >= 0 AND to_deferred_minor >= 0 AND to_tax_minor >= 0",
                        name="amounts"),
    )


class LedgerJournalEntry(_Record, Base):
    """Append-only. `total_minor` is what both the debits and the credits must add up to."""

    __tablename__ = "ledger_journal_entries"
    memo: Mapped[str] = mapped_column(String(500))
    posted_on: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(Currency)
    total_minor: Mapped[int] = mapped_column(Minor)
    source_type: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(255))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal_entries.id"))
    # The legal entity whose own Stripe account the cash run booked this from (its payouts,
    # fees, refunds, disputes); None for the company's and for every deal's entry, whose entity
    # is its deal's (sync/ledger/entity_books.py).
    entity: Mapped[str | None] = mapped_column(String(120), default=None)
    lines: Mapped[list[LedgerJournalLine]] = relationship(
        order_by="LedgerJournalLine.line_no", viewonly=True
    )
    __table_args__ = (CheckConstraint("total_minor > 0", name="total"),)


class LedgerJournalLine(Base):
    __tablename__ = "ledger_journal_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Deferred: lines are written before their entry (see ledger_ddl for why).
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_journal_entries.id", deferrable=True, initially="DEFERRED"), index=True
    )
    line_no: Mapped[int] = mapped_column(Integer)
    account_code: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"), index=True)
    debit_minor: Mapped[int] = mapped_column(Minor, default=0)
    credit_minor: Mapped[int] = mapped_column(Minor, default=0)
    currency: Mapped[str] = mapped_column(Currency)
    __table_args__ = (
        CheckConstraint(
            "(debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0)",
            name="one_side",
        ),
    )


_APPEND_ONLY = ("ledger_journal_entries", "ledger_journal_lines")

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % is append-only; post a reversing entry instead', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$"""

# SQLite has no deferred triggers, so the order of writing is the rule: an entry's lines are
# inserted first (their foreign key is deferred), then the entry, whose insert trigger checks that
# debits = credits = total. Lines for an entry that already exists are refused, and lines left
# without an entry fail the deferred foreign key at commit, so no unbalanced entry can commit.
# One pass over the entry's lines (its `entry_id` index) gives the debits, the credits and
# whether any line is in another currency: a close writes 200,000 entries, and three separate
# lookups per entry were a fifth of its time.
SQLITE_BALANCED = (
    "CREATE TRIGGER ledger_journal_entries_balanced BEFORE INSERT ON ledger_journal_entries "
    "WHEN (SELECT COALESCE(SUM(debit_minor), 0) <> NEW.total_minor "
    "OR COALESCE(SUM(credit_minor), 0) <> NEW.total_minor "
    "OR COALESCE(MAX(currency <> NEW.currency), 0) "
    "FROM ledger_journal_lines WHERE entry_id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'ledger: unbalanced journal entry'); END"
)
_SQLITE = [
    "CREATE TRIGGER ledger_journal_lines_before_entry BEFORE INSERT ON ledger_journal_lines "
    "WHEN EXISTS (SELECT 1 FROM ledger_journal_entries WHERE id = NEW.entry_id) "
    "BEGIN SELECT RAISE(ABORT, 'ledger: journal entry already posted; lines precede their "
    "entry'); END",
    SQLITE_BALANCED,
]


def ledger_ddl(dialect_name: str) -> list[str]:
    """Statements that make journal entries balanced and append-only in the database itself.

    Migration 0001 runs these once the ledger tables exist (the schema is only ever built by the
    migrations); later migrations change some of them (0015 SQLite's check, 0016 PostgreSQL's).
    Execute each as `text()` (Alembic's `op.execute` does), which escapes `%` for psycopg.
    """
    if dialect_name == "postgresql":
        # As migration 0001 installs them; 0016 replaces the row balance triggers with
        # `storage.ledger_balance.PG_BALANCE` (one check per entry per transaction).
        stmts = [PG_ROW_BALANCED, *pg_row_balance_triggers(), _PG_APPEND_ONLY]
        for table in _APPEND_ONLY:
            stmts.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
        return stmts
    if dialect_name == "sqlite":
        stmts = list(_SQLITE)
        for table in _APPEND_ONLY:
            for op in ("UPDATE", "DELETE"):
                stmts.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'ledger: journal is append-only; post a "
                    "reversing entry instead'); END"
                )
        return stmts
    raise ValueError(f"no ledger DDL for dialect {dialect_name!r}")


class LedgerPeriod(Base):
    """A closed accounting month: nothing posts dated in it or before it once it is closed."""

    __tablename__ = "ledger_periods"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    closed_by: Mapped[str] = mapped_column(String(255))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
