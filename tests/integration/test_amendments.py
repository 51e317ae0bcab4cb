"""Amendments change the existing subscription and post a change order, never a duplicate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerSalesOrder
from storage.tables import Approval, Deal, SyncException
from sync.engine.runtime import Runtime


def _umbrella(stack: SandboxStack, seeder: BookSeeder) -> tuple[str, str]:
    spec = next(d for d in demo_deals() if d.account == "Umbrella Health")  # 50 seats, quarterly
    opp = seeder.seed(spec)
    (line,) = [r for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp]
    return opp, line["Id"]


def _amended(stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, seats: int) -> str:
    """Umbrella billed, then its seats changed to `seats` the same day; the opportunity."""
    opp, line = _umbrella(stack, seeder)
    sync_once(runtime)
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": seats})
    sync_once(runtime)
    return opp


def _orders(sessions: sessionmaker[Session]) -> list[int]:
    with transaction(sessions) as session:
        return [o.total_minor for o in session.scalars(
            select(LedgerSalesOrder).order_by(LedgerSalesOrder.id))]


def test_small_expansion_amends_the_subscription_and_posts_the_delta(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = _amended(stack, seeder, runtime, 54)  # +8%

    (sub,) = stack.stripe.objects("subscription")
    assert sub["items"]["data"][0]["quantity"] == 54
    assert sub["metadata"]["contract_version"] == "2"
    # Effective the day the term starts: 4 more seats at $600 a quarter for the whole current
    # quarter (billed at once, prorated over all of it) and the three after it.
    assert _orders(sessions) == [12_000_000, 4 * 60_000 * 4]
    (proration,) = [i for i in stack.stripe.objects("invoice")
                    if i["billing_reason"] == "subscription_update"]
    assert proration["total"] == 4 * 60_000
    with transaction(sessions) as session:
        deal = session.get(Deal, opp)
        assert deal is not None and (deal.status, deal.current_version) == ("synced", 2)
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Stripe_Subscription_Id__c"] == sub["id"]


def test_large_amendment_waits_for_approval(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = _amended(stack, seeder, runtime, 75)  # +50%

    (sub,) = stack.stripe.objects("subscription")
    assert sub["items"]["data"][0]["quantity"] == 50
    with transaction(sessions) as session:
        approval = session.scalar(select(Approval).where(Approval.opportunity_id == opp))
        assert approval is not None and approval.kind == "amendment"
        assert session.get(Deal, opp).status == "awaiting_approval"  # type: ignore[union-attr]
    assert stack.salesforce.get("Opportunity", opp)["Sync_Status__c"] == "Requires Review"


def test_decrease_credits_the_current_period_and_lowers_the_later_ones(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = _amended(stack, seeder, runtime, 48)  # -4%

    (sub,) = stack.stripe.objects("subscription")
    assert sub["items"]["data"][0]["quantity"] == 48
    # Effective the day the term starts: the whole first quarter's 2 seats ($1,200) come back
    # as a credit note on its invoice; the three later quarters are a -$3,600 change order.
    assert [n["amount"] for n in stack.stripe.objects("credit_note")] == [2 * 60_000]
    assert _orders(sessions) == [12_000_000, -2 * 60_000 * 3]
    with transaction(sessions) as session:
        assert session.get(Deal, opp).status == "synced"  # type: ignore[union-attr]
        (credit,) = session.scalars(select(Approval).where(Approval.kind == "credit"))
        # The invoice's first credit, numbered as `/credit` numbers a person's next one.
        assert (credit.contract_version, credit.status, credit.payload["amendment"]) == (
            1, "approved", f"{opp}:v2")
        assert not list(session.scalars(select(SyncException.reason).where(
            SyncException.opportunity_id == opp, SyncException.status == "open")))


def test_a_large_decrease_shows_the_credit_that_will_follow(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = _amended(stack, seeder, runtime, 40)  # -20%

    assert not stack.stripe.objects("credit_note")  # nothing until someone approves
    with transaction(sessions) as session:
        approval = session.scalar(select(Approval).where(Approval.opportunity_id == opp))
        assert approval is not None and approval.kind == "amendment"
        (reason,) = [r["what"] for r in approval.reasons]
    # Approved the day the term starts: 10 seats x $600 for the first quarter come back on its
    # invoice, and 3 x $6,000 less for the later quarters.
    assert reason.endswith(": a credit of USD 6,000.00 on the invoice that billed the current "
                           "period and USD 18,000.00 less for the later periods")
