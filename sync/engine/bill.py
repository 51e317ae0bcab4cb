"""The bill step: a Stripe customer per CRM account and, per contract version, a subscription
(or a one-time invoice), or for an amendment the existing subscription moved to the new prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storage import audit, links, queue
from storage.db import transaction
from sync.engine import exceptions, invoice_mirror, modification
from sync.engine.amend_credit import arm_decrease_credit
from sync.engine.lifecycle import Renewal, arm_cancellation_credits, renewal_of
from sync.engine.runtime import Runtime
from sync.engine.work import (
    Recorded,
    StepInput,
    billed_predecessor,
    clear_failed,
    contract_row,
    contracts_of,
    finish_all,
    found_links,
    load_contract,
    split_duplicates,
    with_open_exceptions,
)
from sync.errors import PermanentError
from sync.model import Contract, InvoiceStatus, Obligation
from sync.ports import BillingResult

WRITEBACK_DELAY = timedelta(seconds=30)

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
    renewal: Renewal | None = None


@dataclass
class BillBatch:
    """What a claimed batch of bill steps needs, read in one transaction."""

    inputs: dict[int, BillInput]
    # Customers made during this batch, by CRM account: later deals of the account reuse them.
    customers: dict[str, str]


def load_bills(rt: Runtime, batch: list[StepInput]) -> BillBatch:
    with transaction(rt.sessions) as session:
        contracts = contracts_of(session, batch)
        scopes = [links.contract_scope(s.opportunity_id, s.version) for s in batch]
        scopes += [links.account_scope(c.customer.crm_account_id) for c in contracts.values()]
        found = found_links(session, scopes, "stripe")
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
                renewal=renewal_of(session, contract),
            )
    return BillBatch(inputs, {})


def bill_effect(rt: Runtime, step: StepInput, batch: BillBatch) -> Billed:
    loaded = batch.inputs.get(step.item_id)
    if loaded is None:
        raise LookupError(f"no contract {step.opportunity_id} v{step.version}")
    opp, version, contract = step.opportunity_id, step.version, loaded.contract
    billing = rt.billing_for(contract.entity)
    account = contract.customer.crm_account_id
    customer_id = loaded.customer_id or batch.customers.get(account)
    if customer_id is None:
        customer_id = billing.ensure_customer(
            contract.customer, key=f"closebot:customer:{account}", lookup=step.lookup
        )
        batch.customers[account] = customer_id
        # Linked at once, not with the batch: if the subscription create below fails for good,
        # the next attempt (perhaps a Retry days later) must still find this customer.
        with transaction(rt.sessions) as session:
            links.record_many(session, [{
                "scope": links.account_scope(account), "system": "stripe", "kind": "customer",
                "external_id": customer_id, "opportunity_id": opp}])
    key = f"closebot:{opp}:v{version}:bill"
    if loaded.amended is not None and contract.recurring:
        previous, previous_subscription = loaded.amended
        if contract.canceled_on is not None:
            result = billing.cancel_contract(
                contract, subscription_id=previous_subscription, key=key)
            return Billed(step, contract, customer_id, result, previous.version)
        result = billing.amend_contract(
            contract,
            subscription_id=previous_subscription,
            new_fees=new_fees(previous, contract),
            key=key,
            effective=rt.now().date(),  # the day closebot bills the new version
        )
        return Billed(step, contract, customer_id, result, previous.version)
    if loaded.renewal is not None and loaded.subscription_id is None:
        if loaded.renewal.subscription_id is None:
            raise PermanentError(loaded.renewal.missing_reason(contract), system="stripe")
        result = billing.renew_contract(
            contract, subscription_id=loaded.renewal.subscription_id, key=key)
        return Billed(step, contract, customer_id, result, None)
    if loaded.subscription_id is not None:
        return Billed(step, contract, customer_id,
                      linked_subscription(rt, contract, loaded.subscription_id), None)
    result = billing.ensure_contract(
        contract, customer_id=customer_id, key=key, lookup=step.lookup)
    return Billed(step, contract, customer_id, result, None)


def linked_subscription(rt: Runtime, contract: Contract, subscription_id: str) -> BillingResult:
    """A subscription already linked to this version (one the go-live import found, or a
    replay's) is read, never created again. Only an open latest invoice is carried on: it is
    receivable the ERP must hold; a settled one is history from before closebot."""
    found = rt.billing_for(contract.entity).subscription(subscription_id)
    invoices = [invoice.model_copy(update={"opportunity_id": contract.opportunity_id,
                                           "contract_version": contract.version})
                for invoice in found.invoices if invoice.status == InvoiceStatus.OPEN]
    return BillingResult(subscription_id=found.subscription_id, invoices=invoices)


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
        clean, duplicates = split_duplicates(billed, conflicts, lambda b: [
            (links.account_scope(b.contract.customer.crm_account_id), "stripe", "customer"),
            (links.contract_scope(b.step.opportunity_id, b.step.version), "stripe",
             "subscription")])
        done, outcomes = finish_all(session, rt, clean)
        for b in done:
            if b.amends is not None:
                row = contract_row(session, b.step.opportunity_id, b.step.version)
                row.amends_version, row.effective_on = b.amends, b.result.effective_on
                if b.result.effective_on is not None:
                    previous = load_contract(session, b.step.opportunity_id, b.amends)
                    arm_decrease_credit(session, previous, b.contract, b.result.effective_on)
                    # Point-in-time obligations waiting for a delivery marked by hand aren't
                    # recognized on their service start (RECOGNIZE_ON_DELIVERY, on the ledger
                    # or on the revenue subledger beside another ERP).
                    kept = getattr(rt.erp, "subledger", None) or rt.erp
                    modification.record(
                        session, previous, b.contract, b.result.effective_on,
                        on_delivery=bool(getattr(kept, "recognize_on_delivery", False)))
            if b.contract.canceled_on is not None:
                arm_cancellation_credits(session, b.contract)
        invoice_mirror.upsert_many(session, [
            (invoice, b.contract.customer.crm_account_id, b.contract.customer.name)
            for b in done for invoice in b.result.invoices
        ])
        for opp, version in with_open_exceptions(session, [b.step for b in done]):
            exceptions.resolve(session, opportunity_id=opp, kinds=["bill"])
            clear_failed(session, opp, version)
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


def new_fees(previous: Contract, current: Contract) -> tuple[Obligation, ...]:
    known = {o.line_id for o in previous.obligations} | {o.product for o in previous.one_time}
    return tuple(o for o in current.one_time if o.line_id not in known and o.product not in known)


