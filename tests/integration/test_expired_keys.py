"""Past Stripe's 24-hour idempotency window a retry looks before it creates: a create whose
response was lost a day ago is found by its metadata, not made again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, WorkItem
from storage.timeutil import utcnow
from sync.engine.runtime import Runtime
from sync.engine.work import load_contract


def _lose_a_day_old_create(stack: SandboxStack, runtime: Runtime,
                           sessions: sessionmaker[Session], opp: str) -> None:
    """Make the creates exactly as the first attempt did, then forget their answers."""
    with transaction(sessions) as session:
        contract = load_contract(session, opp, 1)
    customer = runtime.billing.ensure_customer(
        contract.customer, key=f"closebot:customer:{contract.customer.crm_account_id}",
        lookup=False,
    )
    runtime.billing.ensure_contract(contract, customer_id=customer,
                                    key=f"closebot:{opp}:v1:bill", lookup=False)
    stack.stripe.advance(days=1, seconds=3600)  # the keys expire
    with transaction(sessions) as session:
        session.execute(
            update(WorkItem).where(WorkItem.opportunity_id == opp, WorkItem.step == "bill")
            .values(attempts=1, first_attempt_at=utcnow() - timedelta(hours=25))
        )


def test_retry_after_the_key_window_finds_instead_of_creating(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[3])
    run_job(runtime, "intake")
    _lose_a_day_old_create(stack, runtime, sessions, opp)

    run_job(runtime, "worker")

    assert len(stack.stripe.objects("customer")) == 1
    (subscription,) = stack.stripe.objects("subscription")
    with transaction(sessions) as session:
        assert session.get(Deal, opp).status == "synced"  # type: ignore[union-attr]
        bill = session.scalar(select(WorkItem).where(WorkItem.step == "bill"))
        assert bill is not None and bill.status == "done"
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Stripe_Subscription_Id__c"] == subscription["id"]


def test_without_the_lookup_the_same_retry_would_duplicate(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    """The control: once keys have expired, only the lookup stands between a retry and a copy."""
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[3])
    run_job(runtime, "intake")
    _lose_a_day_old_create(stack, runtime, sessions, opp)
    with transaction(sessions) as session:
        contract = load_contract(session, opp, 1)
    customer = stack.stripe.objects("customer")[0]["id"]
    runtime.billing.ensure_contract(contract, customer_id=customer,
                                    key=f"closebot:{opp}:v1:bill", lookup=False)
    assert len(stack.stripe.objects("subscription")) == 2
