"""Reads of the ledger page by page, ordered by record id: every customer, and every invoice with
something still receivable. The go-live import links them to the CRM; nothing here writes. Also
the sales order a deal's invoice bills, which the revenue subledger files the invoice under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerCustomer,
    LedgerInvoice,
    LedgerPayment,
    LedgerSalesOrder,
)


@dataclass(frozen=True)
class CustomerRow:
    id: int
    number: str
    external_id: str
    name: str


@dataclass(frozen=True)
class OpenInvoiceRow:
    id: int
    number: str
    external_id: str
    billing_number: str | None
    customer_number: str
    currency: str
    total_minor: int
    open_minor: int
    due_on: date | None = None


def customers_after(session: Session, after: int, limit: int) -> list[CustomerRow]:
    rows = session.execute(
        select(LedgerCustomer.id, LedgerCustomer.number, LedgerCustomer.external_id,
               LedgerCustomer.name)
        .where(LedgerCustomer.id > after).order_by(LedgerCustomer.id).limit(limit))
    return [CustomerRow(*row) for row in rows]


def open_invoices_after(session: Session, after: int, limit: int) -> tuple[list[OpenInvoiceRow],
                                                                            int | None]:
    """One page of open invoices, and the id to continue after (None when no more rows)."""
    paid = (select(LedgerPayment.invoice_id, func.sum(LedgerPayment.amount_minor).label("amount"))
            .group_by(LedgerPayment.invoice_id).subquery())
    credited = (select(LedgerCreditMemo.invoice_id,
                       func.sum(LedgerCreditMemo.to_receivable_minor).label("amount"))
                .group_by(LedgerCreditMemo.invoice_id).subquery())
    open_minor = (LedgerInvoice.total_minor - func.coalesce(paid.c.amount, 0)
                  - func.coalesce(credited.c.amount, 0))
    rows = session.execute(
        select(LedgerInvoice.id, LedgerInvoice.number, LedgerInvoice.external_id,
               LedgerInvoice.billing_number, LedgerCustomer.number, LedgerInvoice.currency,
               LedgerInvoice.total_minor, open_minor, LedgerInvoice.due_on)
        .join(LedgerCustomer, LedgerCustomer.id == LedgerInvoice.customer_id)
        .outerjoin(paid, paid.c.invoice_id == LedgerInvoice.id)
        .outerjoin(credited, credited.c.invoice_id == LedgerInvoice.id)
        .where(LedgerInvoice.id > after).order_by(LedgerInvoice.id).limit(limit)).all()
    # The page is cut on every invoice so that paging is by id; closed ones are dropped after.
    found = [OpenInvoiceRow(*row[:7], int(row[7]), row[8]) for row in rows]
    last = rows[-1][0] if len(rows) == limit else None
    return [r for r in found if r.open_minor > 0], last


def order_for_version(session: Session, opportunity_id: str, version: int | None
                      ) -> tuple[str, str] | None:
    """(the sales order's external ID, its customer's) that an invoice of the deal's contract
    `version` bills: that version's order, else the latest one before it (an amendment that
    changed no value keeps the amended version's order); None when the deal has none."""
    found: list[tuple[int, str, str]] = []
    for key, customer in session.execute(
        select(LedgerSalesOrder.external_id, LedgerCustomer.external_id)
        .join(LedgerCustomer, LedgerCustomer.id == LedgerSalesOrder.customer_id)
        .where(LedgerSalesOrder.external_id.startswith(f"{opportunity_id}:v"))
    ):
        number = str(key).rpartition(":v")[2]
        if number.isdigit() and (version is None or int(number) <= version):
            found.append((int(number), str(key), str(customer)))
    if not found:
        return None
    _, key, customer = max(found)
    return key, customer
