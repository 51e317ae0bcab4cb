"""The post step's read: what a claimed batch of post steps needs, in one transaction.

Per step, the contract version, what its ERP sales order holds (the whole contract, or an
amendment's change order), the deal's invoices from the billing mirror with what the ERP already
holds of them, the credits applied in Stripe still owed a memo, the records already linked, and
the amendment's classification to re-plan to. Kept apart from the effect (`post.py`) because it
only reads the database; the ERP is not called here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, ContractVersion
from storage.timeutil import aware
from sync.contracts.amendments import change_order
from sync.engine import modification
from sync.engine.runtime import Runtime
from sync.engine.work import StepInput, found_links, load_contract
from sync.errors import PermanentError
from sync.model import Contract, CreditNote, Invoice, InvoiceLine, InvoiceStatus

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


