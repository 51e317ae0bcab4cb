"""The effects: bill (Stripe), post (ERP). Each item reads what it needs and calls one system
outside any database transaction (`*_effect`); the results of a claimed batch are then recorded
together in one transaction (`record_*`), with a handful of statements per batch rather than per
deal. Retrying a step after a crash at any line creates nothing twice: links are checked first,
and creates carry idempotency keys or external IDs derived from (opportunity, contract version,
step)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage import audit, invoices, links, queue
from storage.db import transaction
from storage.tables import (
    Approval,
    BillingInvoice,
    ContractVersion,
    Deal,
    IdLink,
    SyncException,
)
from storage.timeutil import aware
from sync import exceptions
from sync.amendments import AmendmentNeedsCredit, change_order
from sync.engine.runtime import Runtime
from sync.errors import PermanentError
from sync.model import (
    Contract,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Obligation,
    Payment,
)
from sync.ports import BillingResult

WRITEBACK_DELAY = timedelta(seconds=30)

# Credits applied in Stripe before their invoice reached the ERP: invoice → (approval, note).
OwedMemos = dict[str, list[tuple[int, CreditNote]]]


@dataclass(frozen=True)
class StepInput:
    item_id: int
    opportunity_id: str
    version: int
    attempts: int
    lookup: bool  # the first attempt is older than the idempotency-key window


def load_contract(session: Session, opportunity_id: str, version: int) -> Contract:
    body = session.execute(_CONTRACT_BODY, {"opp": opportunity_id, "v": version}).scalar()
    if body is None:
        raise LookupError(f"no contract {opportunity_id} v{version}")
    return Contract.model_validate(body)


@dataclass(frozen=True)
class Billed:
    step: StepInput
    contract: Contract
    customer_id: str
    result: BillingResult
    amends: int | None  # the version this one amended, if any


@dataclass(frozen=True)
class BillInput:
    contract: Contract
    customer_id: str | None
    subscription_id: str | None
    amended: tuple[Contract, str] | None


@dataclass
class BillBatch:
    """What a claimed batch of bill steps needs, read in one transaction."""

    inputs: dict[int, BillInput]
    # Customers made during this batch, by CRM account: later deals of the account reuse them.
    customers: dict[str, str]


def load_bills(rt: Runtime, batch: list[StepInput]) -> BillBatch:
    with transaction(rt.sessions) as session:
        contracts = _contracts(session, batch)
        scopes = [links.contract_scope(s.opportunity_id, s.version) for s in batch]
        scopes += [links.account_scope(c.customer.crm_account_id) for c in contracts.values()]
        found = _found_links(session, scopes, "stripe")
        inputs = {}
        for step in batch:
            contract = contracts.get((step.opportunity_id, step.version))
            if contract is None:
                continue
            inputs[step.item_id] = BillInput(
                contract=contract,
                customer_id=found.get(
                    (links.account_scope(contract.customer.crm_account_id), "customer")),
                subscription_id=found.get(
                    (links.contract_scope(step.opportunity_id, step.version), "subscription")),
                amended=billed_predecessor(session, step.opportunity_id, step.version)
                if step.version > 1 else None,
            )
    return BillBatch(inputs, {})


def _contracts(session: Session, batch: list[StepInput]) -> dict[tuple[str, int], Contract]:
    wanted = {(s.opportunity_id, s.version) for s in batch}
    rows = session.execute(
        select(ContractVersion.opportunity_id, ContractVersion.version, ContractVersion.body)
        .where(ContractVersion.opportunity_id.in_({opp for opp, _ in wanted}))
    )
    return {(opp, v): Contract.model_validate(body) for opp, v, body in rows
            if (opp, v) in wanted}


def _found_links(session: Session, scopes: list[str], system: str) -> dict[tuple[str, str], str]:
    if not scopes:
        return {}
    return {
        (scope, kind): external_id
        for scope, kind, external_id in session.execute(
            select(IdLink.scope, IdLink.kind, IdLink.external_id).where(
                IdLink.scope.in_(set(scopes)), IdLink.system == system)
        )
    }


def bill_effect(rt: Runtime, step: StepInput, batch: BillBatch) -> Billed:
    loaded = batch.inputs.get(step.item_id)
    if loaded is None:
        raise LookupError(f"no contract {step.opportunity_id} v{step.version}")
    opp, version, contract = step.opportunity_id, step.version, loaded.contract
    account = contract.customer.crm_account_id
    customer_id = loaded.customer_id or batch.customers.get(account)
    if customer_id is None:
        customer_id = rt.billing.ensure_customer(
            contract.customer, key=f"closebot:customer:{account}", lookup=step.lookup
        )
        batch.customers[account] = customer_id
    key = f"closebot:{opp}:v{version}:bill"
    if loaded.amended is not None and contract.recurring:
        previous, previous_subscription = loaded.amended
        result = rt.billing.amend_contract(
            contract,
            subscription_id=previous_subscription,
            new_fees=new_fees(previous, contract),
            key=key,
        )
        return Billed(step, contract, customer_id, result, previous.version)
    result = rt.billing.ensure_contract(
        contract, customer_id=customer_id, key=key,
        lookup=step.lookup or loaded.subscription_id is not None,
    )
    return Billed(step, contract, customer_id, result, None)


@dataclass
class Recorded:
    """What a batch record did per item: done or lease_lost; and the items that would have
    linked a second record to one scope (a duplicate), which were not recorded."""

    outcomes: dict[int, str]
    duplicates: list[StepInput]


def record_bills(rt: Runtime, billed: list[Billed]) -> Recorded:
    now = rt.now()
    with transaction(rt.sessions) as session:
        conflicts = links.record_many(session, [
            row for b in billed for row in (
                {"scope": links.account_scope(b.contract.customer.crm_account_id),
                 "system": "stripe", "kind": "customer", "external_id": b.customer_id,
                 "opportunity_id": b.step.opportunity_id},
                {"scope": links.contract_scope(b.step.opportunity_id, b.step.version),
                 "system": "stripe", "kind": "subscription",
                 "external_id": b.result.subscription_id,
                 "opportunity_id": b.step.opportunity_id},
            ) if row["external_id"]
        ])
        clean, duplicates = _split(billed, conflicts, lambda b: [
            (links.account_scope(b.contract.customer.crm_account_id), "stripe", "customer"),
            (links.contract_scope(b.step.opportunity_id, b.step.version), "stripe",
             "subscription")])
        done, outcomes = _finish_all(session, rt, clean)
        for b in done:
            if b.amends is not None:
                row = _contract_row(session, b.step.opportunity_id, b.step.version)
                row.amends_version, row.effective_on = b.amends, b.result.effective_on
        invoices.upsert_many(session, [
            (invoice, b.contract.customer.crm_account_id, b.contract.customer.name)
            for b in done for invoice in b.result.invoices
        ])
        for opp, version in with_open_exceptions(session, [b.step for b in done]):
            exceptions.resolve(session, opportunity_id=opp, kinds=["bill"])
            _clear_failed(session, opp, version)
        audit.append_many(session, [
            {"action": "billed", "opportunity_id": b.step.opportunity_id,
             "subject": f"contract:{b.step.opportunity_id}:v{b.step.version}",
             "data": {"customer": b.customer_id, "subscription": b.result.subscription_id,
                      "invoices": [i.billing_id for i in b.result.invoices]}}
            for b in done
        ])
        # The write-back is delayed so that the one after posting usually carries both steps'
        # IDs in a single call.
        queue.arm_many(session, [
            arm for b in done for arm in (
                (b.step.opportunity_id, b.step.version, "post", now),
                (b.step.opportunity_id, b.step.version, "writeback", now + WRITEBACK_DELAY),
            )
        ])
    return Recorded(outcomes, duplicates)


def _split(
    items: list[Any], conflicts: set[tuple[str, ...]], keys: Callable[[Any], list[tuple[str, ...]]]
) -> tuple[list[Any], list[StepInput]]:
    clean = [i for i in items if not any(k in conflicts for k in keys(i))]
    duplicates = [i.step for i in items if any(k in conflicts for k in keys(i))]
    return clean, duplicates


def _finish_all(
    session: Session, rt: Runtime, items: list[Any]
) -> tuple[list[Any], dict[int, str]]:
    finished = queue.finish_many(session, [i.step.item_id for i in items], rt.worker_id)
    outcomes = {i.step.item_id: "done" if i.step.item_id in finished else "lease_lost"
                for i in items}
    return [i for i in items if i.step.item_id in finished], outcomes


def with_open_exceptions(session: Session, items: list[StepInput]) -> list[tuple[str, int]]:
    opps = {i.opportunity_id for i in items}
    if not opps:
        return []
    with_open = set(session.scalars(
        select(SyncException.opportunity_id).where(
            SyncException.opportunity_id.in_(opps), SyncException.status == "open")
    ))
    return [(i.opportunity_id, i.version) for i in items if i.opportunity_id in with_open]


def _contract_row(session: Session, opportunity_id: str, version: int) -> ContractVersion:
    row = session.scalar(
        select(ContractVersion).where(
            ContractVersion.opportunity_id == opportunity_id, ContractVersion.version == version
        )
    )
    if row is None:
        raise LookupError(f"no contract {opportunity_id} v{version}")
    return row


def billed_predecessor(
    session: Session, opportunity_id: str, version: int
) -> tuple[Contract, str] | None:
    """The latest earlier version that has a subscription, which this version amends."""
    for earlier in range(version - 1, 0, -1):
        subscription = links.find(
            session, links.contract_scope(opportunity_id, earlier), "stripe", "subscription"
        )
        if subscription:
            return load_contract(session, opportunity_id, earlier), subscription
    return None


def new_fees(previous: Contract, current: Contract) -> tuple[Obligation, ...]:
    known = {o.line_id for o in previous.obligations} | {o.product for o in previous.one_time}
    return tuple(o for o in current.one_time if o.line_id not in known and o.product not in known)


def _order_basis(
    session: Session, contract: Contract, row: ContractVersion
) -> tuple[Contract, str | None]:
    """What the ERP sales order for this version holds: the whole contract, or for an amendment
    the change order (deltas) and, when nothing changed in value, the amended version's order."""
    if row.amends_version is None or row.effective_on is None:
        return contract, None
    previous = load_contract(session, contract.opportunity_id, row.amends_version)
    try:
        delta = change_order(previous, contract, row.effective_on)
    except AmendmentNeedsCredit as error:
        raise PermanentError(str(error), system="erp") from error
    prior_order = None
    if not delta:
        scope = links.contract_scope(contract.opportunity_id, row.amends_version)
        prior_order = links.find(session, scope, "ledger", "sales_order") or links.find(
            session, scope, "netsuite", "sales_order"
        )
    return contract.model_copy(update={"obligations": delta}), prior_order


@dataclass(frozen=True)
class PostInput:
    contract: Contract
    basis: Contract
    prior_order: str | None
    invoices: list[tuple[Invoice, int]]  # with the amount already posted as paid
    memos: OwedMemos


def load_posts(rt: Runtime, batch: list[StepInput]) -> dict[int, PostInput | Exception]:
    """What a claimed batch of post steps needs, read in one transaction."""
    wanted = {(s.opportunity_id, s.version) for s in batch}
    opps = {opp for opp, _ in wanted}
    with transaction(rt.sessions) as session:
        rows = {(r.opportunity_id, r.version): r for r in session.scalars(
            select(ContractVersion).where(ContractVersion.opportunity_id.in_(opps)))}
        mirrored: dict[tuple[str, int], list[tuple[Invoice, int]]] = {}
        for row in session.scalars(
            select(BillingInvoice)
            .where(BillingInvoice.opportunity_id.in_(opps), BillingInvoice.status != "draft")
            .order_by(BillingInvoice.issued_on, BillingInvoice.billing_id)
        ):
            key = (row.opportunity_id or "", row.contract_version or 0)
            mirrored.setdefault(key, []).append(_invoice_from_row(row))
        memos = _owed_memos(session, [inv.billing_id for found in mirrored.values()
                                      for inv, _ in found])
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
            inputs[step.item_id] = PostInput(contract, basis, prior_order,
                                             mirrored.get(key, []), memos)
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
    erp = rt.erp
    customer_id = erp.upsert_customer(contract.customer, currency=contract.currency)
    order_id = prior_order or erp.upsert_sales_order(basis, customer_id=customer_id)
    posted: list[tuple[str, str, int]] = []
    memos: list[tuple[int, str]] = []
    for invoice, paid_in_erp in mirrored:
        erp_invoice = erp.post_invoice(invoice, customer_id=customer_id, sales_order_id=order_id)
        if invoice.amount_paid_minor > paid_in_erp:
            erp.apply_payment(
                Payment(
                    # Keyed by the cumulative amount paid, so a replay posts nothing new.
                    billing_id=f"{invoice.billing_id}:paid@{invoice.amount_paid_minor}",
                    invoice_billing_id=invoice.billing_id,
                    amount_minor=invoice.amount_paid_minor - paid_in_erp,
                    currency=invoice.currency,
                    paid_at=invoice.paid_at or rt.now(),
                ),
                invoice_id=erp_invoice,
            )
        posted.append((invoice.billing_id, erp_invoice, invoice.amount_paid_minor))
        memos += [(approval_id, erp.post_credit_memo(note, invoice_id=erp_invoice))
                  for approval_id, note in loaded.memos.get(invoice.billing_id, [])]
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
        clean, duplicates = _split(posted, conflicts, lambda p: [
            (str(r["scope"]), erp, str(r["kind"])) for r in _post_links(p, erp)])
        done, outcomes = _finish_all(session, rt, clean)
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
        status=InvoiceStatus(row.status),
        issued_on=row.issued_on,
        due_on=row.due_on,
        paid_at=aware(row.paid_at),
        lines=tuple(InvoiceLine.model_validate(line) for line in row.lines or []),
    )
    return invoice, row.erp_paid_minor or 0


_OPEN_KINDS = select(SyncException.kind).where(
    SyncException.opportunity_id == bindparam("opp"), SyncException.status == "open"
)
_CONTRACT_BODY = select(ContractVersion.body).where(
    ContractVersion.opportunity_id == bindparam("opp"), ContractVersion.version == bindparam("v")
)


def _open_kinds(session: Session, opportunity_id: str) -> list[str]:
    return list(session.scalars(_OPEN_KINDS, {"opp": opportunity_id}))


def _clear_failed(session: Session, opportunity_id: str, version: int) -> None:
    deal = session.get(Deal, opportunity_id)
    if (
        deal is not None
        and deal.current_version == version
        and deal.status == "exception"
        and not _open_kinds(session, opportunity_id)
    ):
        deal.status, deal.message = "pending", None
