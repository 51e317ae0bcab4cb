"""Read-only views of the ledger: balances, receivables, invoice status and audits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerCustomer,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerPayment,
    LedgerSalesOrder,
)
from sync.ledger.accounts import BY_CODE
from sync.ledger.records import closed, settled

KEYED = (
    LedgerCustomer, LedgerSalesOrder, LedgerInvoice, LedgerPayment, LedgerCreditMemo,
    LedgerInvoiceClosure, LedgerJournalEntry,
)


@dataclass(frozen=True)
class InvoiceView:
    number: str
    external_id: str
    billing_number: str | None
    customer_external_id: str
    sales_order_external_id: str | None
    currency: str
    total_minor: int
    paid_minor: int
    credited_minor: int
    open_minor: int
    issued_on: date
    due_on: date
    closed_minor: int = 0  # taken out by a void or a write-off
    closed_as: str | None = None  # void | uncollectible

    @property
    def status(self) -> str:
        if self.closed_as:
            return self.closed_as
        return "paid" if self.open_minor == 0 else "partially_paid" if self.paid_minor else "open"


def trial_balance(session: Session, currency: str) -> dict[str, int]:
    """Debit-positive balance per account code (credits negative), so the values sum to zero."""
    rows = session.execute(
        select(
            LedgerJournalLine.account_code,
            func.sum(LedgerJournalLine.debit_minor - LedgerJournalLine.credit_minor),
        )
        .where(LedgerJournalLine.currency == currency)
        .group_by(LedgerJournalLine.account_code)
        .order_by(LedgerJournalLine.account_code)
    )
    return {code: int(total) for code, total in rows}


def account_balance(session: Session, code: str, currency: str) -> int:
    """The balance on the account's normal side: AR and revenue are both positive when normal."""
    debit_positive = trial_balance(session, currency).get(code, 0)
    return debit_positive if BY_CODE[code].normal == "debit" else -debit_positive


def invoice_view(session: Session, external_id: str) -> InvoiceView | None:
    row = session.execute(
        select(LedgerInvoice, LedgerCustomer.external_id, LedgerSalesOrder.external_id)
        .join(LedgerCustomer, LedgerCustomer.id == LedgerInvoice.customer_id)
        .outerjoin(LedgerSalesOrder, LedgerSalesOrder.id == LedgerInvoice.sales_order_id)
        .where(LedgerInvoice.external_id == external_id)
    ).first()
    if row is None:
        return None
    inv, customer_ext, order_ext = row
    paid, credited = settled(session, inv.id)
    taken_out = closed(session, inv.id)
    kinds = list(session.scalars(select(LedgerInvoiceClosure.kind).where(
        LedgerInvoiceClosure.invoice_id == inv.id).order_by(LedgerInvoiceClosure.id)))
    return InvoiceView(
        number=inv.number, external_id=inv.external_id, billing_number=inv.billing_number,
        customer_external_id=customer_ext, sales_order_external_id=order_ext,
        currency=inv.currency, total_minor=inv.total_minor, paid_minor=paid,
        credited_minor=credited, open_minor=inv.total_minor - paid - credited - taken_out,
        issued_on=inv.issued_on, due_on=inv.due_on, closed_minor=taken_out,
        closed_as=kinds[-1] if kinds else None,
    )


def invoice_balances(session: Session) -> list[tuple[str, str | None, int]]:
    """(external id, billing number, open balance) of every invoice, in posting order."""
    paid = (
        select(LedgerPayment.invoice_id, func.sum(LedgerPayment.amount_minor).label("amount"))
        .group_by(LedgerPayment.invoice_id)
        .subquery()
    )
    credited = (
        select(
            LedgerCreditMemo.invoice_id,
            func.sum(LedgerCreditMemo.to_receivable_minor).label("amount"),
        )
        .group_by(LedgerCreditMemo.invoice_id)
        .subquery()
    )
    taken_out = (
        select(LedgerInvoiceClosure.invoice_id,
               func.sum(LedgerInvoiceClosure.amount_minor).label("amount"))
        .group_by(LedgerInvoiceClosure.invoice_id)
        .subquery()
    )
    open_minor = (
        LedgerInvoice.total_minor
        - func.coalesce(paid.c.amount, 0)
        - func.coalesce(credited.c.amount, 0)
        - func.coalesce(taken_out.c.amount, 0)
    )
    rows = session.execute(
        select(LedgerInvoice.external_id, LedgerInvoice.billing_number, open_minor)
        .outerjoin(paid, paid.c.invoice_id == LedgerInvoice.id)
        .outerjoin(credited, credited.c.invoice_id == LedgerInvoice.id)
        .outerjoin(taken_out, taken_out.c.invoice_id == LedgerInvoice.id)
        .order_by(LedgerInvoice.id)
    )
    return [(ext, number, int(amount)) for ext, number, amount in rows]


def ar_open_by_invoice(session: Session) -> dict[str, int]:
    """Open balance of each invoice that still has one (what AR should add up to)."""
    return {ext: amount for ext, _, amount in invoice_balances(session) if amount}


def unbalanced_entries(session: Session) -> list[str]:
    """Numbers of entries whose lines don't add up (the database should make this impossible)."""
    sums = (
        select(
            LedgerJournalLine.entry_id,
            func.sum(LedgerJournalLine.debit_minor).label("dr"),
            func.sum(LedgerJournalLine.credit_minor).label("cr"),
        )
        .group_by(LedgerJournalLine.entry_id)
        .subquery()
    )
    rows = session.scalars(
        select(LedgerJournalEntry.number)
        .outerjoin(sums, sums.c.entry_id == LedgerJournalEntry.id)
        .where(
            (sums.c.dr.is_(None))
            | (sums.c.dr != sums.c.cr)
            | (sums.c.dr != LedgerJournalEntry.total_minor)
        )
        .order_by(LedgerJournalEntry.id)
    )
    return list(rows)


def duplicate_external_ids(session: Session) -> list[tuple[str, str]]:
    """(table, external id) pairs held by more than one record; unique constraints keep it empty."""
    found: list[tuple[str, str]] = []
    for model in KEYED:
        dupes = session.scalars(
            select(model.external_id).group_by(model.external_id).having(func.count() > 1)
        )
        found.extend((model.__tablename__, ext) for ext in dupes)
    return found

