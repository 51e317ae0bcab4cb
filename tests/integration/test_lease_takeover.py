"""A bill attempt that created the subscription and lost its lease before recording it: its
links are kept, and the replica that takes the deal over reads the linked subscription (with a
client that has read no product yet) and posts the first invoice to the ledger.

Acme Corp's first invoice: Platform Subscription USD 100,000.00 (its first period) plus
Implementation Services USD 20,000.00 once = USD 120,000.00. Each line bills a product of the
opportunity, so the ledger holds that one invoice at USD 120,000.00, as Stripe does, and the deal
is synced with no exception open.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerInvoice
from storage.tables import Deal, SyncException, WorkItem
from sync.engine import worker
from tests.integration.conftest import make_settings


def test_a_takeover_after_a_lost_lease_posts_the_linked_subscription(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    acme = next(d for d in demo_deals() if d.account == "Acme Corp")
    opp = BookSeeder(stack.salesforce).seed(acme)
    settings = make_settings(stack, db_url)
    first = build_runtime(settings, sessions)
    run_job(first, "intake")

    # The first replica bills: the subscription exists in Stripe ...
    (step,) = worker._claim(first, "bill", 10)
    billed = worker.EFFECTS["bill"](first, step, worker.LOADERS["bill"](first, [step]))
    # ... but it was too slow: its lease expired and another replica took the item over.
    with transaction(sessions) as session:
        session.execute(update(WorkItem).where(WorkItem.id == step.item_id)
                        .values(lease_owner="another-replica"))
    recorded = worker.RECORDERS["bill"](first, [billed])
    assert recorded.outcomes == {step.item_id: "lease_lost"}
    # That replica was then killed: the item is due again, for a replica starting afresh.
    with transaction(sessions) as session:
        session.execute(update(WorkItem).where(WorkItem.id == step.item_id)
                        .values(status="pending", lease_owner=None, lease_expires_at=None))

    sync_once(build_runtime(settings, sessions))

    with transaction(sessions) as session:
        deal = session.get(Deal, opp)
        assert deal is not None and (deal.status, deal.message) == ("synced", None)
        assert list(session.scalars(select(SyncException.reason))) == []
        posted = {i.external_id: i.total_minor for i in session.scalars(select(LedgerInvoice))}
    (subscription,) = stack.stripe.objects("subscription")
    assert subscription["metadata"]["sf_opportunity_id"] == opp
    invoices = stack.stripe.objects("invoice")
    assert posted == {inv["id"]: inv["total"] for inv in invoices}
    assert list(posted.values()) == [12_000_000]
