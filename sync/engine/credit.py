"""The credit step: an approved credit becomes a Stripe credit note and an ERP credit memo.

A person's decision in Slack only records the approval and arms this step (`credit:<approval>`),
so applying it has the guarantees of billing and posting: an idempotency key from the approval,
a lookup before creating on any retry (a Retry days later finds the note instead of making a
second one), retries with backoff, and an exception with a working Retry when it can't go on.
The note's link is recorded as soon as the note exists; the memo is upserted by the note's ID.
If the invoice is not in the ERP yet, its post step posts the memo right after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit, links, queue
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, ContractVersion
from sync.engine import exceptions, modification
from sync.engine.billing_events import refresh_invoice
from sync.engine.invoice_closures import with_earned
from sync.engine.runtime import Runtime
from sync.engine.work import Recorded, StepInput, finish_all
from sync.model import Contract, CreditNote, Invoice

STEP = "credit"


def arm(session: Session, ap: Approval) -> None:
    """Queue the credit of an approved request (in the transaction that records the decision)."""
    version = session.scalar(select(BillingInvoice.contract_version).where(
        BillingInvoice.billing_id == ap.subject))
    queue.arm(session, opportunity_id=ap.opportunity_id or "", version=version or 0,
              step=f"{STEP}:{ap.id}")


def approval_of(step: StepInput) -> int:
    return int(step.subject)


@dataclass(frozen=True)
class CreditInput:
    approval_id: int
    invoice_id: str
    amount_minor: int
    reason: str
    applied: bool
    erp_invoice: str | None
    contracts: tuple[Contract, ...] = ()  # the deal's versions, to match the invoice's lines


def load_credits(rt: Runtime, batch: list[StepInput]) -> dict[int, CreditInput | Exception]:
    ids = {approval_of(s): s.item_id for s in batch}
    with transaction(rt.sessions) as session:
        rows = session.execute(
            select(Approval, BillingInvoice.erp_invoice_id)
            .outerjoin(BillingInvoice, BillingInvoice.billing_id == Approval.subject)
            .where(Approval.id.in_(ids))
        ).all()
        opps = {ap.opportunity_id for ap, _ in rows if ap.opportunity_id}
        versions: dict[str, list[Contract]] = {}
        for opp, body in session.execute(
                select(ContractVersion.opportunity_id, ContractVersion.body)
                .where(ContractVersion.opportunity_id.in_(opps))):
            versions.setdefault(opp, []).append(Contract.model_validate(body))
    inputs: dict[int, CreditInput | Exception] = {
        item: LookupError(f"no credit approval {approval}") for approval, item in ids.items()}
    for ap, erp_invoice in rows:
        if ap.kind != "credit" or ap.status != "approved":
            inputs[ids[ap.id]] = LookupError(f"approval {ap.id} is not an approved credit")
            continue
        payload = ap.payload or {}
        inputs[ids[ap.id]] = CreditInput(ap.id, ap.subject, ap.amount_minor or 0,
                                         str(payload.get("reason") or ""),
                                         bool(payload.get("applied")), erp_invoice,
                                         tuple(versions.get(ap.opportunity_id or "", [])))
    return inputs


@dataclass(frozen=True)
class Credited:
    step: StepInput
    credit: CreditInput
    note: CreditNote | None  # None: applied by an earlier run
    memo: str | None
    invoice: Invoice | None


def credit_effect(rt: Runtime, step: StepInput,
                  batch: dict[int, CreditInput | Exception]) -> Credited:
    loaded = batch.get(step.item_id) or LookupError(f"credit item {step.item_id} not loaded")
    if isinstance(loaded, Exception):
        raise loaded
    if loaded.applied:
        return Credited(step, loaded, None, None, None)
    # The deal's legal entity bills in its own Stripe account and books to its own subsidiary.
    entity = next((c.entity for c in loaded.contracts if c.entity), None)
    billing = rt.billing_for(entity)
    note = billing.credit_invoice(
        loaded.invoice_id, amount_minor=loaded.amount_minor, reason=loaded.reason,
        key=f"closebot:credit:{loaded.approval_id}", lookup=step.lookup)
    _link_note(rt, step, loaded, note)
    invoice = billing.invoice(loaded.invoice_id)
    note = with_earned(note, invoice, loaded.contracts)
    memo = (rt.erp_for(entity).post_credit_memo(note, invoice_id=loaded.erp_invoice)
            if loaded.erp_invoice else None)
    return Credited(step, loaded, note, memo, invoice)


def _link_note(rt: Runtime, step: StepInput, credit: CreditInput, note: CreditNote) -> None:
    """Record the note as soon as it exists, so nothing after it can lose it."""
    with transaction(rt.sessions) as session:
        links.record_many(session, [{
            "scope": f"credit:{credit.approval_id}", "system": "stripe", "kind": "credit_note",
            "external_id": note.billing_id, "opportunity_id": step.opportunity_id or None}])


def record_credits(rt: Runtime, credited: list[Credited]) -> Recorded:
    with transaction(rt.sessions) as session:
        done, outcomes = finish_all(session, rt, credited)
        for c in done:
            if c.note is not None:
                _record_one(session, rt, c)
    return Recorded(outcomes, [])


def _record_one(session: Session, rt: Runtime, c: Credited) -> None:
    ap = session.get(Approval, c.credit.approval_id, with_for_update=True)
    assert ap is not None and c.note is not None and c.invoice is not None
    if (ap.payload or {}).get("applied"):
        return  # another worker recorded it first; the calls were idempotent
    opp, approval_id, note = ap.opportunity_id, ap.id, c.note
    refresh_invoice(session, c.invoice)
    mirror = session.get(BillingInvoice, ap.subject)
    if mirror is not None:
        mirror.credited_minor += c.credit.amount_minor
    scope = f"credit:{approval_id}"
    if c.memo:
        links.record(session, scope=scope, system=rt.erp.name, kind="credit_memo",
                     external_id=c.memo, opportunity_id=opp)
    ap.payload = {**ap.payload, "applied": True, "credit_note": note.billing_id,
                  "credit_memo": c.memo, "note": note.model_dump(mode="json")}
    if c.memo is None and opp and mirror is not None and mirror.contract_version:
        queue.arm(session, opportunity_id=opp, version=mirror.contract_version, step="post")
    if c.memo:
        modification.replan_after_credit(session, ap)
    if opp:
        exceptions.resolve(session, opportunity_id=opp, kinds=[STEP])
    audit.append(session, action="credit.applied", opportunity_id=opp,
                 subject=f"approval:{approval_id}", invoice=ap.subject,
                 amount_minor=c.credit.amount_minor,
                 downstream=[f"stripe:credit_note:{note.billing_id}",
                             f"{rt.erp.name}:credit_memo:{c.memo or 'after invoice posting'}"])
