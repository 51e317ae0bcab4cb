"""A void's or write-off's journal entry traced down to the obligations it closed, for the audit.

The closure entry (`sync/ledger/closures.py`) posts one Deferred Revenue leg and one leg per
revenue account for the whole invoice. The audit checks each obligation, so the legs are split:
the Deferred Revenue leg over the schedule rows the closure stopped (what was not earned yet),
a revenue leg over the rows of that revenue account the invoice billed and had recognized.
Each share carries its sales order line; a leg with nothing to split over stays whole.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerInvoiceLine,
    LedgerRevenueSchedule,
    LedgerSalesOrderLine,
)
from sync.ledger import accounts as acct

SOURCES = ("invoice_void", "invoice_uncollectible")
REVENUE = (acct.SUBSCRIPTION_REVENUE, acct.SERVICES_REVENUE)


def closed_invoices(session: Session) -> dict[str, str]:
    """Closure external id → its invoice's external id."""
    return dict(session.execute(
        select(LedgerInvoiceClosure.external_id, LedgerInvoice.external_id)
        .join(LedgerInvoice, LedgerInvoice.id == LedgerInvoiceClosure.invoice_id)).all())


def weights(session: Session, closure_ref: str, code: str) -> dict[str, int]:
    """Sales order line external id → weight, for the closure's leg on account `code`."""
    closure = session.scalar(select(LedgerInvoiceClosure)
                             .where(LedgerInvoiceClosure.external_id == closure_ref))
    if closure is None:
        return {}
    rows = select(LedgerSalesOrderLine.external_id, LedgerRevenueSchedule.amount_minor).join(
        LedgerSalesOrderLine,
        LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
    out: dict[str, int] = defaultdict(int)
    if code == acct.DEFERRED_REVENUE:
        for line, amount in session.execute(
                rows.where(LedgerRevenueSchedule.stopped_by_id == closure.id)):
            out[line] += int(amount)
        return dict(out)
    for inv_line in session.scalars(select(LedgerInvoiceLine).where(
            LedgerInvoiceLine.invoice_id == closure.invoice_id,
            LedgerInvoiceLine.sales_order_line_id.is_not(None))):
        query = rows.where(
            LedgerRevenueSchedule.sales_order_line_id == inv_line.sales_order_line_id,
            LedgerRevenueSchedule.revenue_account == code,
            LedgerRevenueSchedule.journal_entry_id.is_not(None))
        if inv_line.recurring and inv_line.period_start and inv_line.period_end:
            # As the closure itself reads it: a recurring line bills its billing period.
            query = query.where(LedgerRevenueSchedule.recognize_on >= inv_line.period_start,
                                LedgerRevenueSchedule.recognize_on < inv_line.period_end)
        for line, amount in session.execute(query):
            out[line] += int(amount)
    return dict(out)


def split(amount: int, by: dict[str, int]) -> list[tuple[str | None, int]]:
    """`amount` over `by` in proportion, exactly (the largest weight takes the remainder)."""
    whole = sum(by.values())
    if not by or whole <= 0:
        return [(None, amount)]
    shares = {k: amount * w // whole for k, w in by.items()}
    largest = max(by, key=lambda k: by[k])
    shares[largest] += amount - sum(shares.values())
    return [(k, v) for k, v in sorted(shares.items()) if v]
