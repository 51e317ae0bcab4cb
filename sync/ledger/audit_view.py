"""The ledger read back for the audit: every general-ledger line traced to the invoice, sales
order and obligation it belongs to, the obligations with their schedules, and per invoice what
the general ledger (not the invoice's own columns) says is still receivable.

Tracing: an invoice entry names its invoice; payments and credit memos their invoice; a revenue
entry its schedule row, hence its sales order line; a reversal whatever the entry it reverses
belongs to. An entry of another kind whose reference is an invoice's external id belongs to that
invoice; a void's or write-off's closure entry belongs to the invoice it closed, its deferred
revenue and revenue legs split over the obligations it closed (`audit_closures.py`); anything
else is left untraced (and the audit says so if it lands on a checked account).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerInvoice,
    LedgerInvoiceLine,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerPayment,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.ledger import accounts as acct
from sync.ledger import audit_closures as closures
from sync.ports import (
    LedgerBooks,
    PostedCredit,
    PostedInvoice,
    PostedOrder,
    Posting,
    ScheduledObligation,
)

ROLES = {
    acct.RECEIVABLE: "receivable", acct.DEFERRED_REVENUE: "deferred_revenue",
    acct.SUBSCRIPTION_REVENUE: "revenue", acct.SERVICES_REVENUE: "revenue",
    acct.CREDITS_ALLOWANCES: "contra_revenue", acct.CASH: "cash",
    acct.STRIPE_CLEARING: "clearing", acct.CUSTOMER_CREDIT: "customer_credit",
    acct.PROCESSING_FEES: "fees",
}
SOURCES = {"revenue_schedule": "revenue"}
Trace = tuple[str, str, str | None, str | None, str | None]  # source, ref, invoice, order, line


def sales_orders(session: Session) -> list[PostedOrder]:
    return [PostedOrder(ext, currency, int(total)) for ext, currency, total in session.execute(
        select(LedgerSalesOrder.external_id, LedgerSalesOrder.currency,
               LedgerSalesOrder.total_minor).order_by(LedgerSalesOrder.id))]


def posted_credits(session: Session) -> list[PostedCredit]:
    return [PostedCredit(ext, int(amount), currency, invoice) for ext, amount, currency, invoice
            in session.execute(
                select(LedgerCreditMemo.external_id, LedgerCreditMemo.amount_minor,
                       LedgerCreditMemo.currency, LedgerInvoice.external_id)
                .join(LedgerInvoice, LedgerInvoice.id == LedgerCreditMemo.invoice_id)
                .order_by(LedgerCreditMemo.id))]


def posted_invoices(session: Session) -> list[PostedInvoice]:
    """Each invoice with what the general ledger holds receivable on it."""
    receivable: dict[str, int] = defaultdict(int)
    reversed_: dict[str, int] = defaultdict(int)
    written_off: dict[str, int] = defaultdict(int)
    voided: set[str] = set()
    for p in postings(session):
        if p.role == "receivable" and p.invoice_external_id:
            receivable[p.invoice_external_id] += p.amount_minor
            if p.source in ("reversed invoice", "invoice_void"):
                reversed_[p.invoice_external_id] -= p.amount_minor
            elif p.source == "invoice_uncollectible":
                written_off[p.invoice_external_id] -= p.amount_minor
        if p.source == "invoice_void" and p.invoice_external_id:
            voided.add(p.invoice_external_id)
    for ext in voided:  # a void after a write-off takes back what the write-off closed too
        reversed_[ext] += written_off.get(ext, 0)
    lines: dict[int, list[tuple[str, int, bool]]] = defaultdict(list)
    for invoice_id, description, amount, recurring in session.execute(
        select(LedgerInvoiceLine.invoice_id, LedgerInvoiceLine.description,
               LedgerInvoiceLine.amount_minor, LedgerInvoiceLine.recurring)
        .order_by(LedgerInvoiceLine.id)
    ):
        lines[invoice_id].append((description, int(amount), bool(recurring)))
    return [
        PostedInvoice(ext, number, receivable.get(ext, 0), int(total), currency,
                      reversed_.get(ext, 0), order, tuple(lines.get(inv_id, ())))
        for inv_id, ext, number, total, currency, order in session.execute(
            select(LedgerInvoice.id, LedgerInvoice.external_id, LedgerInvoice.billing_number,
                   LedgerInvoice.total_minor, LedgerInvoice.currency,
                   LedgerSalesOrder.external_id)
            .outerjoin(LedgerSalesOrder, LedgerSalesOrder.id == LedgerInvoice.sales_order_id)
            .order_by(LedgerInvoice.id))
    ]


def obligations(session: Session) -> list[ScheduledObligation]:
    schedules: dict[int, list[tuple[date, int, bool]]] = defaultdict(list)
    for line_id, on, amount, entry in session.execute(
        select(LedgerRevenueSchedule.sales_order_line_id, LedgerRevenueSchedule.recognize_on,
               LedgerRevenueSchedule.amount_minor, LedgerRevenueSchedule.journal_entry_id)
        .where(LedgerRevenueSchedule.stopped_by_id.is_(None))  # a closure took it back
        .order_by(LedgerRevenueSchedule.id)
    ):
        schedules[line_id].append((on, int(amount), entry is not None))
    return [
        ScheduledObligation(order, line.external_id, line.description, line.recurring,
                            int(line.amount_minor), currency, tuple(schedules.get(line.id, ())),
                            None if line.contract_minor is None else int(line.contract_minor))
        for line, order, currency in session.execute(
            select(LedgerSalesOrderLine, LedgerSalesOrder.external_id, LedgerSalesOrder.currency)
            .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
            .order_by(LedgerSalesOrderLine.id))
    ]


def postings(session: Session) -> list[Posting]:
    """Every entry's lines, summed per account, with the records they belong to."""
    traces = _traces(session)
    out: list[Posting] = []
    for entry_id, posted_on, currency, code, amount in session.execute(
        select(LedgerJournalEntry.id, LedgerJournalEntry.posted_on, LedgerJournalEntry.currency,
               LedgerJournalLine.account_code,
               func.sum(LedgerJournalLine.debit_minor - LedgerJournalLine.credit_minor))
        .join(LedgerJournalLine, LedgerJournalLine.entry_id == LedgerJournalEntry.id)
        .group_by(LedgerJournalEntry.id, LedgerJournalEntry.posted_on,
                  LedgerJournalEntry.currency, LedgerJournalLine.account_code)
        .order_by(LedgerJournalEntry.id)
    ):
        source, ref, invoice, order, line = traces[entry_id]
        role = ROLES.get(code, f"account {code}")
        parts = [(line, int(amount))]
        if source in closures.SOURCES and role in ("deferred_revenue", "revenue"):
            parts = closures.split(int(amount), closures.weights(session, ref, code))
        out += [Posting(role, currency, part, posted_on, source, ref, invoice, order, line_ext)
                for line_ext, part in parts]
    return out


def books(session: Session) -> LedgerBooks:
    return LedgerBooks(tuple(obligations(session)), tuple(postings(session)))


def _traces(session: Session) -> dict[int, Trace]:
    invoices = {ext: order for ext, order in session.execute(
        select(LedgerInvoice.external_id, LedgerSalesOrder.external_id)
        .outerjoin(LedgerSalesOrder, LedgerSalesOrder.id == LedgerInvoice.sales_order_id))}
    settled = dict(session.execute(
        select(LedgerPayment.external_id, LedgerInvoice.external_id)
        .join(LedgerInvoice, LedgerInvoice.id == LedgerPayment.invoice_id)).all())
    settled.update(session.execute(
        select(LedgerCreditMemo.external_id, LedgerInvoice.external_id)
        .join(LedgerInvoice, LedgerInvoice.id == LedgerCreditMemo.invoice_id)).all())
    rows = {str(row_id): (line, order) for row_id, line, order in session.execute(
        select(LedgerRevenueSchedule.id, LedgerSalesOrderLine.external_id,
               LedgerSalesOrder.external_id)
        .join(LedgerSalesOrderLine,
              LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id))}
    settled.update(closures.closed_invoices(session))
    entries = {eid: (kind, ref, reverses) for eid, kind, ref, reverses in session.execute(
        select(LedgerJournalEntry.id, LedgerJournalEntry.source_type,
               LedgerJournalEntry.source_ref, LedgerJournalEntry.reverses_id))}

    def trace(entry_id: int, depth: int = 0) -> Trace:
        kind, ref, reverses = entries[entry_id]
        if kind == "reversal" and reverses in entries and depth < 5:
            source, ref, invoice, order, line = trace(reverses, depth + 1)
            return f"reversed {source}", ref, invoice, order, line
        source = SOURCES.get(kind, kind)
        if kind == "revenue_schedule" and ref in rows:
            line, order = rows[ref]
            return source, line, None, order, line
        invoice = settled.get(ref) if kind in ("payment", "credit_memo", *closures.SOURCES) else (
            ref if ref in invoices else None)
        return source, ref, invoice, invoices.get(invoice) if invoice else None, None

    return {eid: trace(eid) for eid in entries}
