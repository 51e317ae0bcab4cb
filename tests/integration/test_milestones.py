"""Milestones (percent complete) on the embedded ledger, end to end from Salesforce.

By hand, the seed's Acme deal synced on day S with Milestones "30/30/40" on its Implementation
Services line (USD 20,000.00, one-time): Stripe bills USD 120,000.00 up front; the ledger plans
the implementation as three rows waiting for their milestones: 6,000.00 + 6,000.00 + 8,000.00
= 20,000.00. Dr AR 120,000.00 / Cr Deferred Revenue 120,000.00.
- Milestone 1 marked reached on S + 5: the revenue job recognizes 6,000.00 dated S + 5.
- Milestone 2 marked on S + 9, then undone (not recognized yet): it waits again; nothing posts.
- Milestone 2 marked on S + 9 again, milestone 3 on S + 11: 6,000.00 and 8,000.00 recognized.
  Services revenue 20,000.00 = the implementation's price; deferred 100,000.00 (the
  subscription's first month ends after S + 11).
- A fourth mark is refused in one line; so is undoing a recognized milestone.
- A replayed post step plans nothing twice: still three rows, nothing more recognized.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerJournalEntry, LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from sync.ledger.delivery import DeliveryRefused
from tests.integration.books import (
    K,
    advance,
    clocked,
    ledger_books,
    recognize,
    replay_post,
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
    return clocked(stack, db_url, sessions)


def _impl_rows(sessions: sessionmaker[Session]) -> list[tuple[int, bool]]:
    with transaction(sessions) as s:
        return [(int(r.amount_minor), r.journal_entry_id is not None) for r in s.scalars(
            select(LedgerRevenueSchedule).join(
                LedgerSalesOrderLine,
                LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
            .where(LedgerSalesOrderLine.recognition == "milestone")
            .order_by(LedgerRevenueSchedule.period_no))]


def _services_entries(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    with transaction(sessions) as s:
        return [(e.posted_on.isoformat(), e.total_minor) for e in s.scalars(
            select(LedgerJournalEntry).where(LedgerJournalEntry.source_type == "revenue_schedule")
            .order_by(LedgerJournalEntry.id)) if any(ln.account_code == "4100" for ln in e.lines)]


def test_milestones_recognize_their_shares_as_they_are_reached(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = today(stack)
    opp = seed_acme(stack, start)
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp
               and stack.salesforce.get("Product2", r["Product2Id"])["Name"] == IMPL]
    stack.salesforce.update("OpportunityLineItem", line, {"Milestones__c": "30/30/40"})
    sync_once(rt)
    recognize(rt)
    assert _impl_rows(sessions) == [(6 * K, False), (6 * K, False), (8 * K, False)]
    assert ledger_books(sessions)["Services revenue"] == 0

    ledger = Ledger(sessions)

    def mark(days: int, *, undo: bool = False) -> None:
        advance(stack, days=days - (today(stack) - start).days)
        ledger.mark_delivered(opportunity_id=opp, product=IMPL,
                              on=None if undo else start + timedelta(days=days), by="pm",
                              today=today(stack))

    mark(5)
    assert recognize(rt) == 1
    mark(9)
    mark(9, undo=True)
    assert recognize(rt) == 0
    assert _impl_rows(sessions) == [(6 * K, True), (6 * K, False), (8 * K, False)]
    mark(9)
    mark(11)
    assert recognize(rt) == 2
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731
    assert _services_entries(sessions) == [(day(5), 6 * K), (day(9), 6 * K), (day(11), 8 * K)]
    books = ledger_books(sessions)
    assert (books["AR"], books["Deferred revenue"], books["Services revenue"]) == (
        120 * K, 100 * K, 20 * K)

    with pytest.raises(DeliveryRefused, match="every milestone of Implementation Services"):
        mark(11)
    with pytest.raises(DeliveryRefused, match="can't be undone"):
        mark(11, undo=True)

    replay_post(rt, opp)
    assert recognize(rt) == 0
    assert _impl_rows(sessions) == [(6 * K, True), (6 * K, True), (8 * K, True)]
