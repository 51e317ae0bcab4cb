"""Every journal entry of one deal, each with its legs and the record it came from: the Stripe
invoice, payment or credit note it mirrors and the ledger's own record number (INV-, PMT-, CM-,
CL-, the sales order of a recognized period), and any reversal of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerAccount,
    LedgerCreditMemo,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerJournalEntry,
    LedgerPayment,
    LedgerRevenueSchedule,
)
from storage.tables import AuditEntry
from sync.ledger.books import deal_orders, lines_of
from sync.revenue.modifications import ACTION as MODIFICATION
from sync.revenue.modifications import Kind

KINDS = {"invoice": "invoice", "payment": "payment", "credit_memo": "credit memo",
         "invoice_void": "void", "invoice_uncollectible": "write-off",
         "revenue_schedule": "revenue recognition", "reversal": "reversal"}


@dataclass(frozen=True)
class Leg:
    account: str
    name: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class Entry:
    number: str  # JE-…
    posted_on: date
    kind: str
    memo: str
    currency: str
    total_minor: int
    source: str  # the upstream record, in words: "Stripe invoice in_…"
    record: str  # the ledger's record it belongs to: INV-…, PMT-…, CM-…, CL-…, SO-…
    legs: list[Leg] = field(default_factory=list)


def deal_entries(session: Session, opportunity_id: str) -> list[Entry]:
    """The deal's entries in posting order (date, then number)."""
    orders = deal_orders(session, opportunity_id)
    if not orders:
        return []
    sources: dict[int, tuple[str, str]] = {}  # entry id → (source, ledger record)
    invoices = session.scalars(select(LedgerInvoice).where(
        LedgerInvoice.sales_order_id.in_([o.id for o in orders]))).all()
    by_invoice = {inv.id: inv for inv in invoices}
    for inv in invoices:
        if inv.journal_entry_id:
            sources[inv.journal_entry_id] = (f"Stripe invoice {inv.external_id}", inv.number)
    ids = list(by_invoice)
    for pay in session.scalars(select(LedgerPayment).where(LedgerPayment.invoice_id.in_(ids))):
        sources[pay.journal_entry_id] = (
            f"Stripe payment {pay.external_id} on {by_invoice[pay.invoice_id].external_id}",
            pay.number)
    for memo in session.scalars(select(LedgerCreditMemo).where(
            LedgerCreditMemo.invoice_id.in_(ids))):
        sources[memo.journal_entry_id] = (f"Stripe credit note {memo.external_id}", memo.number)
    for closure in session.scalars(select(LedgerInvoiceClosure).where(
            LedgerInvoiceClosure.invoice_id.in_(ids))):
        if closure.journal_entry_id:
            what = "void" if closure.kind == "void" else "write-off"
            sources[closure.journal_entry_id] = (
                f"{what} of Stripe invoice {by_invoice[closure.invoice_id].external_id}",
                closure.number)
    order_of = {line.id: order for order in orders for line in order.lines}
    line_of = {line.id: line for line in lines_of(orders)}
    for row in session.scalars(select(LedgerRevenueSchedule).where(
            LedgerRevenueSchedule.sales_order_line_id.in_(list(line_of)),
            LedgerRevenueSchedule.journal_entry_id.is_not(None))):
        line = line_of[row.sales_order_line_id]
        assert row.journal_entry_id is not None
        sources[row.journal_entry_id] = (
            f"revenue schedule of {line.description} ({line.external_id}), period "
            f"{row.period_no}", order_of[line.id].number)
    entries = list(session.scalars(select(LedgerJournalEntry).where(
        LedgerJournalEntry.id.in_(list(sources)))))
    # A correction reverses one of these entries: it belongs to the deal too.
    for rev in session.scalars(select(LedgerJournalEntry).where(
            LedgerJournalEntry.reverses_id.in_(list(sources)))):
        sources[rev.id] = (f"reversal of {rev.source_ref}", sources[rev.reverses_id or 0][1])
        entries.append(rev)
    names = {code: name for code, name in session.execute(
        select(LedgerAccount.code, LedgerAccount.name))}
    entries.sort(key=lambda e: (e.posted_on, e.id))
    return [Entry(
        number=e.number, posted_on=e.posted_on, kind=KINDS.get(e.source_type, e.source_type),
        memo=e.memo, currency=e.currency, total_minor=e.total_minor,
        source=sources[e.id][0], record=sources[e.id][1],
        legs=[Leg(ln.account_code, names.get(ln.account_code, ln.account_code),
                  ln.debit_minor, ln.credit_minor) for ln in e.lines],
    ) for e in entries]


@dataclass(frozen=True)
class Modification:
    """An amendment as ASC 606-10-25-12/13 classifies it (recorded in the audit log)."""

    version: int
    amends: int
    effective_on: date
    kind: str  # its label: separate contract, prospective, cumulative catch-up
    reason: str
    remaining: dict[str, int]  # per obligation, revenue still to recognize from the effective day
    catch_up: dict[str, int]  # per obligation, revenue caught up on the effective day


def deal_modifications(session: Session, opportunity_id: str) -> list[Modification]:
    """The deal's classified amendments, oldest first."""
    found = []
    for row in session.scalars(select(AuditEntry).where(
            AuditEntry.opportunity_id == opportunity_id, AuditEntry.action == MODIFICATION)
            .order_by(AuditEntry.id)):
        data = row.data or {}
        version = (row.subject or "").rpartition(":v")[2]
        found.append(Modification(
            version=int(version) if version.isdigit() else 0, amends=int(data.get("amends", 0)),
            effective_on=date.fromisoformat(data["effective_on"]),
            kind=Kind(data["kind"]).label, reason=str(data.get("reason", "")),
            remaining={k: int(v) for k, v in (data.get("remaining") or {}).items()},
            catch_up={k: int(v) for k, v in (data.get("catch_up") or {}).items()}))
    return found
