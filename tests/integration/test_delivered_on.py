"""Delivered On from Salesforce sets a point-in-time obligation's delivery, on the embedded
ledger with RECOGNIZE_ON_DELIVERY (deliveries otherwise marked by hand).

By hand, the seed's Acme deal synced on day S: Implementation Services USD 20,000.00 (one-time,
waits for its delivery) and Platform Subscription USD 100,000.00 over 10 months, billed
annually up front: Dr AR 120,000.00 / Cr Deferred Revenue 120,000.00; nothing recognized on S.
- Day S + 12: the implementation's line gets Delivered On = S + 10. The next sync moves its
  schedule row to S + 10 (audited, by "Salesforce (Delivered On)") and the revenue job
  recognizes it dated that day: Dr Deferred 20,000.00 / Cr Services Revenue 20,000.00.
  Trial balance: AR 120,000.00 Dr; Deferred 100,000.00 Cr, Services 20,000.00 Cr.
- A replayed post step moves nothing and posts nothing; the audit log holds one delivery.
- A deal whose line says Delivered On before its Contract Start Date is held as a validation
  exception naming the field by its label; nothing is billed or posted for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import demo_deals
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.ledger import LedgerJournalEntry
from storage.tables import AuditEntry, SyncException
from sync.engine.runtime import Runtime
from tests.integration.books import (
    K,
    advance,
    clocked,
    deal_status,
    ledger_books,
    line_id,
    recognize,
    replay_post,
    seed,
    seed_acme,
    today,
)

IMPL = "Implementation Services"


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="ledger", slack=False) as running:
        yield running


@pytest.fixture
def rt(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return clocked(stack, db_url, sessions, recognize_on_delivery=True)


def _deliveries(sessions: sessionmaker[Session], opp: str) -> list[tuple[str, str, str]]:
    with transaction(sessions) as s:
        return [(r.action, r.actor, (r.data or {}).get("on")) for r in s.scalars(
            select(AuditEntry).where(AuditEntry.opportunity_id == opp,
                                     AuditEntry.action.like("revenue.deliver%"))
            .order_by(AuditEntry.id))]


def _revenue_entries(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    with transaction(sessions) as s:
        return [(e.posted_on.isoformat(), e.total_minor) for e in s.scalars(
            select(LedgerJournalEntry).where(LedgerJournalEntry.source_type == "revenue_schedule")
            .order_by(LedgerJournalEntry.id))]


def test_delivered_on_recognizes_the_implementation_that_day(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = today(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert recognize(rt) == 0
    assert ledger_books(sessions)["Deferred revenue"] == 120 * K

    advance(stack, days=12)
    delivered = start + timedelta(days=10)
    stack.salesforce.update("OpportunityLineItem", line_id(stack, opp, IMPL),
                            {"Delivered_On__c": delivered.isoformat()})
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    assert _deliveries(sessions, opp) == [
        ("revenue.delivered", "Salesforce (Delivered On)", delivered.isoformat())]
    assert recognize(rt) == 1
    assert _revenue_entries(sessions) == [(delivered.isoformat(), 20 * K)]
    books = ledger_books(sessions)
    assert (books["AR"], books["Deferred revenue"], books["Services revenue"]) == (
        120 * K, 100 * K, 20 * K)

    # Delivered On made a version 2 (nothing else changed); replay both posts.
    replay_post(rt, opp)
    with transaction(rt.sessions) as s:
        queue.arm(s, opportunity_id=opp, version=2, step="post")
    sync_once(rt)
    assert recognize(rt) == 0
    assert len(_deliveries(sessions, opp)) == 1
    assert _revenue_entries(sessions) == [(delivered.isoformat(), 20 * K)]


def test_delivered_on_before_the_contract_start_is_a_validation_exception(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = today(stack)
    deal = replace(demo_deals(start)[0], start=start)
    opp = seed(stack, deal)
    stack.salesforce.update("OpportunityLineItem", line_id(stack, opp, IMPL),
                            {"Delivered_On__c": (start - timedelta(days=3)).isoformat()})
    sync_once(rt)
    assert deal_status(sessions, opp) != "synced"
    with transaction(sessions) as s:
        reasons = [e.reason for e in s.scalars(
            select(SyncException).where(SyncException.opportunity_id == opp))]
    assert len(reasons) == 1
    assert "Delivered On" in reasons[0] and "before the Contract Start Date" in reasons[0]
    assert "Delivered_On__c" not in reasons[0]
    assert stack.stripe.objects("invoice") == [] and ledger_books(sessions)["AR"] == 0
