"""Creating ledger records and their postings, inside a caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerCustomer,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerInvoiceLine,
    LedgerJournalEntry,
    LedgerPayment,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.ledger import accounts as acct
from sync.ledger.errors import CurrencyMismatchError, LedgerError, NotFoundError
from sync.ledger.journal import Leg, is_minor, next_number, post_entry
from sync.ledger.recognition import schedule_rows
from sync.ledger.replan import take_from_schedule
from sync.money import is_known_currency

R = TypeVar(
    "R", LedgerCustomer, LedgerSalesOrder, LedgerInvoice, LedgerPayment, LedgerCreditMemo,
    LedgerInvoiceClosure, LedgerJournalEntry,
)


@dataclass(frozen=True)
class SalesOrderLineIn:
    """One performance obligation of a contract version."""

    external_id: str
    description: str
    amount_minor: int
    recurring: bool
    service_start: date
    service_end: date
    recognition: Literal["ratable", "point_in_time", "milestone"]
    # The price its invoices bill when allocation moved `amount_minor` (what it recognizes).
    contract_minor: int | None = None
    # A point-in-time line whose delivery is still to come: recognized once marked delivered.
    awaiting_delivery: bool = False
    # A milestone line's milestones (percentages adding to 100): one schedule row each, every
    # one waiting until it is marked reached.
    milestones: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class InvoiceLineIn:
    description: str
    amount_minor: int  # excluding tax
    recurring: bool = False
    period_start: date | None = None
    period_end: date | None = None  # exclusive
    tax_minor: int = 0
    obligation: str | None = None  # the external id of the sales order line it bills


def find(session: Session, model: type[R], external_id: str) -> R | None:
    return session.scalar(select(model).where(model.external_id == external_id))


def require(session: Session, model: type[R], external_id: str, *, lock: bool = False) -> R:
    stmt = select(model).where(model.external_id == external_id)
    found = session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFoundError(f"no {model.__tablename__[7:-1]} with external id {external_id!r}")
    return found


def check_currency(currency: str, *, expected: str | None = None) -> str:
    if not is_known_currency(currency) or currency != currency.upper():
        raise CurrencyMismatchError(f"{currency!r} is not an upper-case ISO 4217 code")
    if expected is not None and currency != expected:
        raise CurrencyMismatchError(f"{currency} against a record in {expected}")
    return currency


def check_amount(value: object, *, positive: bool) -> int:
    if not is_minor(value) or value < (1 if positive else 0):  # type: ignore[operator]
        raise LedgerError(f"amount must be {'a positive' if positive else 'an'} integer: {value!r}")
    return value  # type: ignore[return-value]


def create_customer(
    session: Session, *, external_id: str, name: str, currency: str
) -> LedgerCustomer:
    new_id, number = next_number(session, LedgerCustomer.__tablename__)
    customer = LedgerCustomer(
        id=new_id, number=number, external_id=external_id, name=name,
        currency=check_currency(currency),
    )
    session.add(customer)
    session.flush()
    return customer


def create_sales_order(
    session: Session,
    *,
    external_id: str,
    customer: LedgerCustomer,
    currency: str,
    lines: Sequence[SalesOrderLineIn],
) -> LedgerSalesOrder:
    """A contract version; its lines' revenue schedules are written with it. A negative line is
    a change order's decrease: it re-plans what the contract line still has to recognize."""
    check_currency(currency)
    if not lines or len({ln.external_id for ln in lines}) != len(lines):
        raise LedgerError("a sales order needs lines with distinct external ids")
    for ln in lines:
        check_amount(abs(ln.amount_minor) if is_minor(ln.amount_minor) else ln.amount_minor,
                     positive=False)
        if ln.recognition not in ("ratable", "point_in_time", "milestone") \
                or ln.service_end < ln.service_start:
            raise LedgerError(f"line {ln.external_id}: bad recognition or service period")
    new_id, number = next_number(session, LedgerSalesOrder.__tablename__)
    order = LedgerSalesOrder(
        id=new_id, number=number, external_id=external_id, customer_id=customer.id,
        currency=currency, total_minor=sum(ln.amount_minor for ln in lines),
    )
    session.add(order)
    rows = [
        LedgerSalesOrderLine(
            sales_order_id=new_id, line_no=i, external_id=ln.external_id,
            description=ln.description[:500], amount_minor=ln.amount_minor,
            contract_minor=ln.contract_minor, recurring=ln.recurring,
            service_start=ln.service_start, service_end=ln.service_end,
            recognition=ln.recognition,
            revenue_account=acct.revenue_account(recurring=ln.recurring),
        )
        for i, ln in enumerate(lines, start=1)
    ]
    session.add_all(rows)
    session.flush()
    # One executemany for all periods: a three-year monthly line alone has 36 rows.
    for row in rows:
        if row.amount_minor < 0:
            take_from_schedule(session, external_id=row.external_id,
                               amount_minor=-row.amount_minor, start=row.service_start,
                               end=row.service_end)
    schedule = [r for row, ln in zip(rows, lines, strict=True) if row.amount_minor > 0
                for r in schedule_rows(row, currency, awaiting=ln.awaiting_delivery,
                                       milestones=ln.milestones)]
    if schedule:
        session.execute(insert(LedgerRevenueSchedule), schedule)
    return order


def create_invoice(
    session: Session,
    *,
    external_id: str,
    customer: LedgerCustomer,
    sales_order: LedgerSalesOrder | None,
    billing_number: str | None,
    currency: str,
    issued_on: date,
    due_on: date,
    lines: Sequence[InvoiceLineIn],
) -> LedgerInvoice:
    """Dr Accounts Receivable (total) / Cr Deferred Revenue (the lines) / Cr Sales Tax Payable
    (their tax): billing earns nothing, recognition does; tax is never revenue."""
    check_currency(currency, expected=sales_order.currency if sales_order else None)
    if not all(is_minor(ln.amount_minor) and is_minor(ln.tax_minor) for ln in lines):
        raise LedgerError(f"invoice {external_id}: line amounts must be integer minor units")
    billed = sum(ln.amount_minor for ln in lines)
    tax = sum(ln.tax_minor for ln in lines)
    total = billed + tax
    if billed < 0 or tax < 0:
        raise LedgerError(f"invoice {external_id} totals {total}: a negative invoice is a credit")
    new_id, number = next_number(session, LedgerInvoice.__tablename__)
    entry = None
    if total:
        legs = [Leg(acct.RECEIVABLE, debit=total)]
        legs += [Leg(acct.DEFERRED_REVENUE, credit=billed)] if billed else []
        legs += [Leg(acct.SALES_TAX_PAYABLE, credit=tax)] if tax else []
        entry = post_entry(
            session, external_id=f"invoice:{external_id}", memo=f"{number} {billing_number or ''}",
            posted_on=issued_on, currency=currency, source_type="invoice", source_ref=external_id,
            legs=legs,
        )
    invoice = LedgerInvoice(
        id=new_id, number=number, external_id=external_id, billing_number=billing_number,
        customer_id=customer.id, sales_order_id=sales_order.id if sales_order else None,
        currency=currency, total_minor=total, issued_on=issued_on, due_on=due_on,
        journal_entry_id=entry.id if entry else None,
    )
    session.add(invoice)
    order_lines = {ln.external_id: ln.id for ln in sales_order.lines} if sales_order else {}
    session.add_all(
        LedgerInvoiceLine(
            invoice_id=new_id, line_no=i, description=ln.description[:500],
            amount_minor=ln.amount_minor, recurring=ln.recurring,
            period_start=ln.period_start, period_end=ln.period_end, tax_minor=ln.tax_minor,
            sales_order_line_id=order_lines.get(ln.obligation or ""),
        )
        for i, ln in enumerate(lines, start=1)
    )
    session.flush()
    return invoice


def settled(session: Session, invoice_id: int) -> tuple[int, int]:
    """(paid, credited against the receivable) so far for an invoice."""
    paid = session.scalar(
        select(func.coalesce(func.sum(LedgerPayment.amount_minor), 0))
        .where(LedgerPayment.invoice_id == invoice_id)
    )
    credited = session.scalar(
        select(func.coalesce(func.sum(LedgerCreditMemo.to_receivable_minor), 0))
        .where(LedgerCreditMemo.invoice_id == invoice_id)
    )
    return int(paid or 0), int(credited or 0)


def closed(session: Session, invoice_id: int) -> int:
    """The receivable taken out by a void or a write-off."""
    return int(session.scalar(
        select(func.coalesce(func.sum(LedgerInvoiceClosure.amount_minor), 0))
        .where(LedgerInvoiceClosure.invoice_id == invoice_id)
    ) or 0)


def open_balance(session: Session, invoice: LedgerInvoice) -> int:
    paid, credited = settled(session, invoice.id)
    return invoice.total_minor - paid - credited - closed(session, invoice.id)
