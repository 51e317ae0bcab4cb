"""The cash facts the cash run keeps: for a deal's CRM record, what was refunded on its invoices
and where its latest dispute stands (from what was booked, never from what Stripe merely says);
for the chain of custody, which payout carried each charge and refund, and the payouts settled.

A refund counts once its credit memo is posted to the ERP; a dispute once its withdrawals are
booked. Each fact is one row per billing object (`re_…`, `dp_…`, `ch_…`, `po_…`), so a replay of
the run rewrites the same row, and a deal's write-back is armed only when its refunds or
disputes changed: a rerun changes nothing in Salesforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage import queue
from storage.ops_tables import CashFact
from storage.tables import BillingInvoice
from storage.timeutil import utcnow
from sync.ports_cash import (
    CHARGE,
    REFUND_FAILURE,
    BalanceTxn,
    CashDispute,
    CashErp,
    CashPayout,
    CashPosting,
    CashReads,
    Customers,
)
from sync.ports_cash import REFUND as REFUND_CATEGORY

REFUND, DISPUTE, PAYMENT, PAYOUT_KIND = "refund", "dispute", "payment", "payout"
FAILED = "failed"


@dataclass(frozen=True)
class Fact:
    object_id: str
    kind: str
    invoice_id: str | None
    currency: str
    amount_minor: int
    status: str
    occurred_on: date
    customer_id: str | None = None
    payout_id: str | None = None


def dispute_fact(dispute: CashDispute, *, today: date) -> Fact | None:
    if dispute.invoice_id is None:
        return None
    return Fact(dispute.id, DISPUTE, dispute.invoice_id, dispute.currency, dispute.amount_minor,
                dispute.status, dispute.closed_on or today)


def payout_fact(payout: CashPayout) -> Fact:
    return Fact(payout.id, PAYOUT_KIND, None, payout.currency, payout.amount_minor, "paid",
                payout.arrival_on, payout_id=payout.id)


class Notes:
    """What the cash run read and booked, kept until the run's transaction saves it."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.payout_of: dict[str, str] = {}  # a refund's payout, seen in the payout's lines
        self.payouts: dict[str, CashPayout] = {}

    def take(self) -> list[Fact]:
        facts, self.facts = self.facts, []
        return facts


class RecordingReads:
    """The billing reads, noting each payout and, of its lines, the charges of customers
    closebot bills and which payout carried each refund."""

    def __init__(self, reads: CashReads, notes: Notes, customers: Customers) -> None:
        self._reads, self._notes, self._customers = reads, notes, customers

    def payouts(self, *, arrival_gte: date | None = None) -> Iterator[CashPayout]:
        for payout in self._reads.payouts(arrival_gte=arrival_gte):
            self._notes.payouts = {payout.id: payout}
            yield payout

    def payout_transactions(self, payout_id: str) -> Iterator[BalanceTxn]:
        for txn in self._reads.payout_transactions(payout_id):
            if txn.category == CHARGE and txn.customer_id and txn.source_id and (
                    self._customers(txn.customer_id)):
                self._notes.facts.append(Fact(
                    txn.source_id, PAYMENT, None, txn.currency, txn.amount_minor, "paid",
                    txn.created_on, customer_id=txn.customer_id, payout_id=payout_id))
            elif txn.category == REFUND_CATEGORY and txn.source_id:
                self._notes.payout_of[txn.source_id] = payout_id
            elif txn.category == REFUND_FAILURE and txn.source_id and txn.invoice_id:
                # The money came back: the customer wasn't refunded after all.
                self._notes.facts.append(Fact(
                    txn.source_id, REFUND, txn.invoice_id, txn.currency, txn.amount_minor,
                    FAILED, txn.created_on, payout_id=payout_id))
            yield txn

    def transactions(self, *, created_gte: date) -> Iterator[BalanceTxn]:
        return self._reads.transactions(created_gte=created_gte)

    def dispute(self, dispute_id: str) -> CashDispute:
        return self._reads.dispute(dispute_id)

    def disputes(self, *, created_gte: date | None = None) -> Iterator[CashDispute]:
        return self._reads.disputes(created_gte=created_gte)

    def balance(self) -> dict[str, int]:
        return self._reads.balance()


class RecordingErp:
    """The ERP port, noting each refund it was asked to post: its credit memo names the
    invoice (posting is idempotent, so a refund posted before is noted again, which `save`
    treats as no change)."""

    def __init__(self, erp: CashErp, notes: Notes | None = None) -> None:
        self._erp = erp
        self.notes = notes or Notes()

    def post_cash(self, posting: CashPosting) -> str:
        number = self._erp.post_cash(posting)
        if posting.credit_invoice is not None:
            amount, invoice_id = posting.credit_invoice
            self.notes.facts.append(Fact(
                posting.source_ref, REFUND, invoice_id, posting.currency, amount, "booked",
                posting.posted_on, payout_id=self.notes.payout_of.get(posting.source_ref)))
        return number

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        self._erp.post_many(postings)

    def has_invoice(self, invoice_id: str) -> bool:
        return self._erp.has_invoice(invoice_id)

    def posted(self, external_ids: Sequence[str]) -> dict[str, int]:
        return self._erp.posted(external_ids)

    def clearing_balance(self, currency: str) -> int:
        return self._erp.clearing_balance(currency)

    def take(self) -> list[Fact]:
        return self.notes.take()


FIELDS = ("kind", "invoice_id", "opportunity_id", "customer_id", "payout_id", "currency",
          "amount_minor", "status", "occurred_on")


def save(session: Session, facts: Iterable[Fact]) -> set[str]:
    """Store the facts (a page at a time: one read of those stored, one of their invoices);
    arm the write-back of each deal whose refunds or disputes changed. Returns those deals."""
    unique: dict[str, Fact] = {}
    for fact in facts:  # a payout lists newest first: a refund's failure before the refund
        held = unique.get(fact.object_id)
        if held is None or held.status != FAILED:
            unique[fact.object_id] = fact
    facts = list(unique.values())
    if not facts:
        return set()
    now = utcnow()
    stored = {row.object_id: row for row in session.scalars(
        select(CashFact).where(CashFact.object_id.in_([f.object_id for f in facts])))}
    wanted = {f.invoice_id for f in facts if f.invoice_id}
    invoices = {row.billing_id: row for row in session.scalars(
        select(BillingInvoice).where(BillingInvoice.billing_id.in_(wanted)))} if wanted else {}
    changed: dict[str, int] = {}
    fresh: list[dict[str, object]] = []
    for fact in facts:
        invoice = invoices.get(fact.invoice_id or "")
        if fact.kind in (REFUND, DISPUTE) and (invoice is None or not invoice.opportunity_id):
            continue  # not a deal's invoice: the cash exceptions already say so
        values = {**{k: getattr(fact, k) for k in FIELDS if k != "opportunity_id"},
                  "opportunity_id": invoice.opportunity_id if invoice else None}
        row = stored.get(fact.object_id)
        if row is not None and row.status == FAILED and fact.kind == REFUND:
            continue  # a failed refund stays failed when a rerun books the refund again
        if row is None:
            fresh.append({"object_id": fact.object_id, "updated_at": now, **values})
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
        else:
            continue
        if invoice is not None and invoice.opportunity_id and fact.kind in (REFUND, DISPUTE):
            changed[invoice.opportunity_id] = invoice.contract_version or 0
    if fresh:  # a payout's charges: one statement, not one per row
        session.execute(insert(CashFact), fresh)
    for opportunity_id, version in changed.items():
        queue.arm(session, opportunity_id=opportunity_id, version=version, step="writeback")
    return set(changed)
