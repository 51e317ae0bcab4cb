"""The post step: the ERP customer, the sales order of a contract version (or an amendment's
change order), and the version's invoices with what was paid and credited on them, and with
their void or write-off. Each invoice line is matched to the obligation it bills first: an
invoice with an amount no obligation explains is an exception, never posted (its tax is fine:
it goes to sales tax payable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit, links, queue
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, ContractVersion, Deal
from storage.timeutil import aware
from sync.cash.application import payment_to_post
from sync.contracts.amendments import change_order
from sync.contracts.billed_lines import attribute, unexplained_reason
from sync.engine import exceptions, modification
from sync.engine.invoice_closures import closure_of, with_earned
from sync.engine.runtime import Runtime
from sync.engine.unapplied_cash import book_unapplied
from sync.engine.work import (
    Recorded,
    StepInput,
    finish_all,
    found_links,
    load_contract,
    split_duplicates,
    with_open_exceptions,
)
from sync.errors import PermanentError
from sync.model import Contract, CreditNote, Invoice, InvoiceLine, InvoiceStatus
from sync.ports_revenue import CrmDeliveries, DeliveryRefused, ReplannedSchedules

# Credits applied in Stripe before their invoice reached the ERP: invoice → (approval, note).
OwedMemos = dict[str, list[tuple[int, CreditNote]]]


def _order_basis(
    session: Session, contract: Contract, row: ContractVersion
) -> tuple[Contract, str | None]:
    """What the ERP sales order for this version holds: the whole contract, or for an amendment
    the change order (deltas) and, when nothing changed in value, the amended version's order."""
    if row.amends_version is None or row.effective_on is None:
        return contract, None
    previous = load_contract(session, contract.opportunity_id, row.amends_version)
    delta = change_order(previous, contract, row.effective_on)
    prior_order = None
    if not delta:
        scope = links.contract_scope(contract.opportunity_id, row.amends_version)
        prior_order = links.find(session, scope, "ledger", "sales_order") or links.find(
            session, scope, "netsuite", "sales_order"
        )
    # A change order holds price deltas: the original allocation doesn't describe them.
    delta = [o.model_copy(update={"allocated_minor": None}) for o in delta]
    return contract.model_copy(update={"obligations": delta}), prior_order


@dataclass(frozen=True)
class PostInput:
    contract: Contract
    basis: Contract
    prior_order: str | None
    invoices: list[tuple[Invoice, int]]  # with the amount already posted as paid
    memos: OwedMemos
    # Records the ERP already holds for this deal (posted before, or found by the go-live
    # import): used as they are, never upserted again under closebot's own external IDs.
    linked: dict[tuple[str, str], str]
    contracts: list[Contract]  # the deal's versions up to this one, to match invoice lines
    in_erp: set[str]  # billing invoices the ERP already holds
    # The amendment's ASC 606 classification, when the ERP's schedules are to follow it.
    replan: dict[str, object] | None = None


def load_posts(rt: Runtime, batch: list[StepInput]) -> dict[int, PostInput | Exception]:
    """What a claimed batch of post steps needs, read in one transaction."""
    wanted = {(s.opportunity_id, s.version) for s in batch}
    opps = {opp for opp, _ in wanted}
    with transaction(rt.sessions) as session:
        rows = {(r.opportunity_id, r.version): r for r in session.scalars(
            select(ContractVersion).where(ContractVersion.opportunity_id.in_(opps)))}
        mirrored: dict[tuple[str, int], list[tuple[Invoice, int]]] = {}
        in_erp: set[str] = set()
        for row in session.scalars(
            select(BillingInvoice)
            .where(BillingInvoice.opportunity_id.in_(opps), BillingInvoice.status != "draft")
            .order_by(BillingInvoice.issued_on, BillingInvoice.billing_id)
        ):
            key = (row.opportunity_id or "", row.contract_version or 0)
            mirrored.setdefault(key, []).append(_invoice_from_row(row))
            if row.erp_invoice_id:
                in_erp.add(row.billing_id)
        memos = _owed_memos(session, [inv.billing_id for found in mirrored.values()
                                      for inv, _ in found])
        linked = found_links(session, [
            *(links.account_scope(str(r.body["customer"]["crm_account_id"]))
              for r in rows.values()),
            *(links.invoice_scope(inv.billing_id) for found in mirrored.values()
              for inv, _ in found)], rt.erp.name)
        inputs: dict[int, PostInput | Exception] = {}
        for step in batch:
            key = (step.opportunity_id, step.version)
            if key not in rows:
                inputs[step.item_id] = LookupError(f"no contract {key[0]} v{key[1]}")
                continue
            contract = Contract.model_validate(rows[key].body)
            try:
                basis, prior_order = _order_basis(session, contract, rows[key])
            except PermanentError as error:
                inputs[step.item_id] = error
                continue
            versions = [Contract.model_validate(r.body) for (opp, v), r in rows.items()
                        if opp == step.opportunity_id and v <= step.version]
            replan = (modification.to_replan(session, step.opportunity_id, step.version)
                      if rows[key].amends_version is not None else None)
            inputs[step.item_id] = PostInput(contract, basis, prior_order,
                                             mirrored.get(key, []), memos, linked, versions,
                                             in_erp, replan)
    return inputs


def _owed_memos(session: Session, invoice_ids: list[str]) -> OwedMemos:
    """Credits applied in Stripe before their invoice reached the ERP, still without a memo."""
    owed: OwedMemos = {}
    if not invoice_ids:
        return owed
    for ap in session.scalars(select(Approval).where(
        Approval.kind == "credit", Approval.status == "approved",
        Approval.subject.in_(invoice_ids),
    ).order_by(Approval.id)):
        payload = ap.payload or {}
        if payload.get("applied") and not payload.get("credit_memo") and payload.get("note"):
            note = CreditNote.model_validate(payload["note"])
            owed.setdefault(ap.subject, []).append((ap.id, note))
    return owed


def _replan(erp: ReplannedSchedules, contract: Contract, record: dict[str, object]) -> None:
    """The ERP's schedules moved to the amendment's classification, after its change order."""
    remaining, catch_up = record.get("remaining"), record.get("catch_up")
    erp.replan(opportunity_id=contract.opportunity_id,
               effective=date.fromisoformat(str(record["effective_on"])),
               remaining={str(k): int(v) for k, v in (remaining or {}).items()}
               if isinstance(remaining, dict) else {},
               catch_up={str(k): int(v) for k, v in (catch_up or {}).items()}
               if isinstance(catch_up, dict) else {})


@dataclass(frozen=True)
class Posted:
    step: StepInput
    contract: Contract
    customer_id: str
    order_id: str
    invoices: list[tuple[str, str, int]]  # billing invoice, ERP invoice, amount paid posted
    memos: list[tuple[int, str]]  # credit approval, ERP credit memo


def post_effect(rt: Runtime, step: StepInput, batch: dict[int, PostInput | Exception]) -> Posted:
    loaded = batch.get(step.item_id) or LookupError(f"{step.opportunity_id} was not loaded")
    if isinstance(loaded, Exception):
        raise loaded
    contract, basis, prior_order, mirrored = (
        loaded.contract, loaded.basis, loaded.prior_order, loaded.invoices)
    erp, linked = rt.erp_for(contract.entity), loaded.linked
    customer_id = linked.get((links.account_scope(contract.customer.crm_account_id), "customer")
                             ) or erp.upsert_customer(contract.customer, currency=contract.currency)
    order_id = prior_order or erp.upsert_sales_order(basis, customer_id=customer_id)
    if isinstance(erp, CrmDeliveries):
        try:
            erp.deliver_from_crm(contract, today=rt.now().date())
        except DeliveryRefused as refused:
            raise PermanentError(f"Delivered On: {refused}", system="erp") from None
    # The schedules closebot keeps: the ledger's own, or its revenue subledger beside another ERP.
    schedules = erp if isinstance(erp, ReplannedSchedules) else getattr(erp, "subledger", None)
    if loaded.replan and isinstance(schedules, ReplannedSchedules):
        _replan(schedules, contract, loaded.replan)
    posted: list[tuple[str, str, int]] = []
    memos: list[tuple[int, str]] = []
    unexplained: list[str] = []
    for billed, paid_in_erp in mirrored:
        if billed.total_minor == 0 and not billed.lines:
            continue  # a future start's empty first invoice: nothing to book
        invoice, problems = attribute(billed, loaded.contracts)
        linked_invoice = linked.get((links.invoice_scope(invoice.billing_id), "invoice"))
        if problems and linked_invoice is None and invoice.billing_id not in loaded.in_erp:
            # A void invoice the ERP never saw has nothing left to book; any other waits for a
            # person. (One the ERP already holds was posted before: it is not judged again.)
            if invoice.status != InvoiceStatus.VOID:
                unexplained.append(unexplained_reason(invoice, problems))
            continue
        erp_invoice = linked_invoice or erp.post_invoice(invoice, customer_id=customer_id,
                                                         sales_order_id=order_id)
        payment = payment_to_post(invoice, paid_in_erp=paid_in_erp, now=rt.now())
        if payment is not None:
            erp.apply_payment(payment, invoice_id=erp_invoice)
        book_unapplied(rt, invoice, erp_invoice=erp_invoice)
        posted.append((invoice.billing_id, erp_invoice, invoice.amount_paid_minor))
        memos += [(approval_id, erp.post_credit_memo(with_earned(note, invoice, loaded.contracts),
                                                     invoice_id=erp_invoice))
                  for approval_id, note in loaded.memos.get(invoice.billing_id, [])]
        closure = closure_of(invoice, loaded.contracts, today=rt.now().date())
        if closure is not None:
            erp.close_invoice(closure, invoice_id=erp_invoice)
    if unexplained:
        # Everything else is in the ERP; the step ends as an exception a person can act on.
        raise PermanentError(" ".join(unexplained), system="erp")
    return Posted(step, contract, customer_id, order_id, posted, memos)


def _post_links(p: Posted, erp: str) -> list[dict[str, str | None]]:
    opp = p.step.opportunity_id
    rows: list[dict[str, str | None]] = [
        {"scope": links.account_scope(p.contract.customer.crm_account_id), "system": erp,
         "kind": "customer", "external_id": p.customer_id, "opportunity_id": opp},
        {"scope": links.contract_scope(opp, p.step.version), "system": erp,
         "kind": "sales_order", "external_id": p.order_id, "opportunity_id": opp},
    ]
    rows += [{"scope": links.invoice_scope(billing_id), "system": erp, "kind": "invoice",
              "external_id": erp_invoice, "opportunity_id": opp}
             for billing_id, erp_invoice, _ in p.invoices]
    rows += [{"scope": f"credit:{approval_id}", "system": erp, "kind": "credit_memo",
              "external_id": memo, "opportunity_id": opp} for approval_id, memo in p.memos]
    return rows


def record_posts(rt: Runtime, posted: list[Posted]) -> Recorded:
    erp = rt.erp.name
    now = rt.now()
    with transaction(rt.sessions) as session:
        conflicts = links.record_many(session, [r for p in posted for r in _post_links(p, erp)])
        clean, duplicates = split_duplicates(posted, conflicts, lambda p: [
            (str(r["scope"]), erp, str(r["kind"])) for r in _post_links(p, erp)])
        done, outcomes = finish_all(session, rt, clean)
        paid = {billing_id: (erp_invoice, amount)
                for p in done for billing_id, erp_invoice, amount in p.invoices}
        if paid:
            for row in session.scalars(
                select(BillingInvoice).where(BillingInvoice.billing_id.in_(list(paid)))
            ):
                erp_invoice, amount = paid[row.billing_id]
                row.erp_invoice_id = erp_invoice
                row.erp_paid_minor = max(row.erp_paid_minor or 0, amount)
        _record_memos(session, [m for p in done for m in p.memos], erp)
        for opp, _ in with_open_exceptions(session, [p.step for p in done]):
            exceptions.resolve(session, opportunity_id=opp, kinds=["post"])
        still_open = set(with_open_exceptions(session, [p.step for p in done]))
        deals = {d.opportunity_id: d for d in session.scalars(
            select(Deal).where(Deal.opportunity_id.in_([p.step.opportunity_id for p in done])))}
        for p in done:
            deal = deals.get(p.step.opportunity_id)
            if (
                deal is not None
                and deal.current_version == p.step.version
                and deal.status in ("pending", "exception")
                and (p.step.opportunity_id, p.step.version) not in still_open
            ):
                deal.status, deal.message = "synced", None
        audit.append_many(session, [
            {"action": "posted", "opportunity_id": p.step.opportunity_id,
             "subject": links.contract_scope(p.step.opportunity_id, p.step.version),
             "data": {"erp": erp, "customer": p.customer_id, "sales_order": p.order_id,
                      "invoices": [i[1] for i in p.invoices]}}
            for p in done
        ])
        queue.arm_many(session, [
            (p.step.opportunity_id, p.step.version, "writeback", now) for p in done
        ])
    return Recorded(outcomes, duplicates)


def _record_memos(session: Session, memos: list[tuple[int, str]], erp: str) -> None:
    if not memos:
        return
    found = {ap.id: ap for ap in session.scalars(
        select(Approval).where(Approval.id.in_([approval_id for approval_id, _ in memos])))}
    for approval_id, memo in memos:
        ap = found[approval_id]
        ap.payload = {**(ap.payload or {}), "credit_memo": memo}
        modification.replan_after_credit(session, ap)
        audit.append(session, action="credit.memo_posted", opportunity_id=ap.opportunity_id,
                     subject=f"approval:{approval_id}", invoice=ap.subject,
                     downstream=[f"{erp}:credit_memo:{memo}"])


def _invoice_from_row(row: BillingInvoice) -> tuple[Invoice, int]:
    invoice = Invoice(
        billing_id=row.billing_id,
        number=row.number,
        billing_customer_id=row.billing_customer_id,
        subscription_id=row.subscription_id,
        opportunity_id=row.opportunity_id,
        contract_version=row.contract_version,
        currency=row.currency,
        total_minor=row.total_minor,
        amount_due_minor=row.total_minor,
        amount_paid_minor=row.amount_paid_minor,
        amount_remaining_minor=row.amount_remaining_minor,
        amount_overpaid_minor=row.amount_overpaid_minor or 0,
        credit_applied_minor=row.credit_applied_minor or 0,
        status=InvoiceStatus(row.status),
        issued_on=row.issued_on,
        due_on=row.due_on,
        paid_at=aware(row.paid_at),
        closed_at=aware(row.closed_at),
        lines=tuple(InvoiceLine.model_validate(line) for line in row.lines or []),
    )
    return invoice, row.erp_paid_minor or 0


