"""A worker SIGKILLed between an external create and its database commit, then restarted,
creates nothing twice: Stripe replays the idempotent create, the ledger finds by external ID,
and Salesforce receives the same idempotent update again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerInvoice, LedgerSalesOrder
from storage.tables import Deal
from sync.ledger import Ledger
from tests.integration.conftest import make_settings, sync_and_die_after

CRASH_POINTS = {
    "after_stripe_customer": ("billing", "ensure_customer"),
    "after_stripe_subscription": ("billing", "ensure_contract"),
    "after_ledger_invoice": ("erp", "post_invoice"),
    "after_salesforce_writeback": ("crm", "write_back"),
}


@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_kill_between_effect_and_commit_creates_nothing_twice(
    point: str, stack: SandboxStack, db_url: str, engine: Any, sessions: sessionmaker[Session]
) -> None:
    seeder = BookSeeder(stack.salesforce)
    deals = [d for d in demo_deals() if d.cadence and d.account != "Initech"]
    ids = [seeder.seed(d) for d in deals]
    settings = make_settings(stack, db_url, lease_s=1)
    sync_and_die_after(settings, *CRASH_POINTS[point])
    rt = build_runtime(settings, sessions)
    sync_once(rt)
    sync_once(rt)

    with transaction(sessions) as session:
        statuses = set(session.scalars(select(Deal.status)))
        ledger_invoices = session.scalar(select(func.count()).select_from(LedgerInvoice))
        orders = session.scalar(select(func.count()).select_from(LedgerSalesOrder))
    assert statuses == {"synced"}
    customers = stack.stripe.objects("customer")
    assert len(customers) == len({c["metadata"]["sf_account_id"] for c in customers}) == len(ids)
    subscriptions = stack.stripe.objects("subscription")
    assert sorted(s["metadata"]["sf_opportunity_id"] for s in subscriptions) == sorted(ids)
    assert ledger_invoices == len(stack.stripe.objects("invoice"))
    assert orders == len(ids)
    ledger = Ledger(sessions)
    assert ledger.duplicate_external_ids() == [] and ledger.unbalanced_entries() == []
    for opp in ids:
        record = stack.salesforce.get("Opportunity", opp)
        assert record["Sync_Status__c"] == "Synced"
        sub = next(s for s in subscriptions if s["metadata"]["sf_opportunity_id"] == opp)
        assert record["Stripe_Subscription_Id__c"] == sub["id"]
