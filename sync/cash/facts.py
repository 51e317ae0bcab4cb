"""The cash facts a deal's CRM record shows: what was refunded on its invoices and where its
latest dispute stands, kept from what the cash run books (never from what Stripe merely says).

A refund counts once its credit memo is posted to the ERP; a dispute once its withdrawals are
booked. Each fact is one row per billing object (`re_…`, `dp_…`), so a replay of the run
rewrites the same row, and the deal's write-back is armed only when a fact changed: a rerun
changes nothing in Salesforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from storage import queue
from storage.ops_tables import CashFact
from storage.tables import BillingInvoice
from storage.timeutil import utcnow
from sync.ports_cash import CashDispute, CashErp, CashPosting

REFUND, DISPUTE = "refund", "dispute"


@dataclass(frozen=True)
class Fact:
    object_id: str
    kind: str
    invoice_id: str
    currency: str
    amount_minor: int
    status: str
    occurred_on: date


def refund_fact(posting: CashPosting) -> Fact | None:
    """A refund's entry names the invoice its credit memo goes against (`credit_invoice`)."""
    if posting.credit_invoice is None:
        return None
    amount, invoice_id = posting.credit_invoice
    return Fact(posting.source_ref, REFUND, invoice_id, posting.currency, amount, "booked",
                posting.posted_on)


def dispute_fact(dispute: CashDispute, *, today: date) -> Fact | None:
    if dispute.invoice_id is None:
        return None
    return Fact(dispute.id, DISPUTE, dispute.invoice_id, dispute.currency, dispute.amount_minor,
                dispute.status, dispute.closed_on or today)


class RecordingErp:
    """The ERP port, noting each refund it was asked to post (posting is idempotent, so a
    refund posted before is noted again, which `save` treats as no change)."""

    def __init__(self, erp: CashErp) -> None:
        self._erp = erp
        self.facts: list[Fact] = []

    def post_cash(self, posting: CashPosting) -> str:
        number = self._erp.post_cash(posting)
        fact = refund_fact(posting)
        if fact is not None:
            self.facts.append(fact)
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
        facts, self.facts = self.facts, []
        return facts


def save(session: Session, facts: Iterable[Fact]) -> set[str]:
    """Store the facts of invoices closebot billed for a deal; arm the write-back of each deal
    whose facts changed. Returns those deals."""
    changed: dict[str, int] = {}
    now = utcnow()
    for fact in facts:
        invoice = session.get(BillingInvoice, fact.invoice_id)
        if invoice is None or not invoice.opportunity_id:
            continue  # not a deal's invoice: the cash exceptions already say so
        values = {"kind": fact.kind, "invoice_id": fact.invoice_id,
                  "opportunity_id": invoice.opportunity_id, "currency": fact.currency,
                  "amount_minor": fact.amount_minor, "status": fact.status,
                  "occurred_on": fact.occurred_on}
        row = session.get(CashFact, fact.object_id)
        if row is None:
            session.add(CashFact(object_id=fact.object_id, updated_at=now, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
        else:
            continue
        changed[invoice.opportunity_id] = invoice.contract_version or 0
    for opportunity_id, version in changed.items():
        queue.arm(session, opportunity_id=opportunity_id, version=version, step="writeback")
    return set(changed)
