"""A prospective upsell re-plans the embedded ledger's schedules end to end (Salesforce → Stripe
→ the ledger), with RECOGNIZE_ON_DELIVERY: the implementation still waits for its delivery
when the subscription is raised, so the classification moves revenue between both obligations.

The seed deal, synced on day S: Implementation Services $20,000 (one-time, waits for delivery) +
Platform Subscription $100,000 over 10 months (one annual period of P days), invoiced
$120,000 up front. Months 1 and 2 recognized ($20,000). On day 75 the subscription goes to
$110,000: Stripe bills D = prorated(11,000,000, L, P) - prorated(10,000,000, L, P), L = P - 75.
The change order holds D on the subscription. ASC 606-10-25-13(a): the pool is
2,000,000 + 8,000,000 + D, shared by what is left at the new prices (implementation 2,000,000;
subscription prorated(11,000,000, L, P)). For a term starting 1 January 2026 (P = 304, L = 229):
D = 753,289, pool 10,753,289, implementation 2,090,822, subscription 8,662,467
(tests/unit/test_revenue_modifications.py).

After the post step the ledger plans exactly that: the implementation's row
2,000,000 -> the classification's share (more than 2,000,000: it gained), the subscription's
rows from day 75 (8,000,000 + D) -> its share (it gave up the same amount). The implementation
delivered on day 100 and the term run out: Services Revenue = its share, Subscription Revenue
= 2,000,000 + its share, together 12,000,000 + D = AR; Deferred Revenue 0; the audit clean.
A replayed bill and post step moves nothing. With NetSuite or Sage Intacct the revenue
subledger beside them (whose releases month-end close posts there) is re-planned the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from sync.ledger.books_deal import deal_modifications
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance,
    clocked,
    ledger_books,
    line_id,
    mirrored,
    on_ledger,
    prorated,
    recognize,
    seed_acme,
    today,
)

IMPL, SUB = "Implementation Services", "Platform Subscription"


@pytest.fixture(params=["ledger", "netsuite", "intacct"])
def stack(request: pytest.FixtureRequest) -> Iterator[SandboxStack]:
    with SandboxStack(erp=request.param, slack=False) as running:
        yield running


@pytest.fixture
def rt(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return clocked(stack, db_url, sessions, recognize_on_delivery=True)


def _planned(sessions: sessionmaker[Session], line_id: str, since: object) -> int:
    with transaction(sessions) as s:
        return sum(s.scalars(
            select(LedgerRevenueSchedule.amount_minor).join(LedgerSalesOrderLine)
            .where((LedgerSalesOrderLine.external_id == line_id)
                   | LedgerSalesOrderLine.external_id.startswith(f"{line_id}:delta@"),
                   LedgerRevenueSchedule.recognize_on >= since)))


def test_an_upsell_before_delivery_reallocates_both_obligations(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = today(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    recognize(rt)
    advance(stack, days=75)
    effective = start + timedelta(days=75)
    period = (add_months(start, 10) - start).days
    left = period - 75
    upsell = prorated(110 * K, left, period) - prorated(100 * K, left, period)
    impl, sub = line_id(stack, opp, IMPL), line_id(stack, opp, SUB)
    stack.salesforce.update("OpportunityLineItem", sub, {"UnitPrice": Decimal("110000")})
    sync_once(rt)
    assert [i.total_minor for i in mirrored(sessions, opp)] == [120 * K, upsell]

    with transaction(sessions) as s:
        (change,) = deal_modifications(s, opp)
    assert change.kind == "prospective"
    gained = change.remaining[impl] - 20 * K
    assert 0 < gained < upsell
    if start == date(2026, 1, 1):  # the figures worked by hand above
        assert (upsell, change.remaining) == (753_289, {impl: 2_090_822, sub: 8_662_467})
    # Not yet recognized before the change (20,000 + 80,000) plus D, shared to the cent.
    assert change.remaining[impl] + change.remaining[sub] == 100 * K + upsell
    assert _planned(sessions, impl, effective) == change.remaining[impl]
    assert _planned(sessions, sub, effective) == change.remaining[sub]

    # A replayed bill (and so post) step: nothing billed, posted or moved twice.
    with transaction(rt.sessions) as s:
        queue.arm(s, opportunity_id=opp, version=2, step="bill")
        queue.arm(s, opportunity_id=opp, version=2, step="post")
    sync_once(rt)
    assert _planned(sessions, impl, effective) == change.remaining[impl]
    assert [i.total_minor for i in mirrored(sessions, opp)] == [120 * K, upsell]

    if not on_ledger(stack):
        return  # NetSuite and Sage Intacct take these schedules' releases at close
    delivered = start + timedelta(days=100)
    advance(stack, days=25)
    Ledger(sessions).mark_delivered(opportunity_id=opp, product=IMPL, on=delivered, by="ops",
                                    today=delivered)
    advance(stack, days=period)
    recognize(rt)
    books = ledger_books(sessions)
    assert books["Services revenue"] == 20 * K + gained
    assert books["Subscription revenue"] == 100 * K + upsell - gained
    assert books["Deferred revenue"] == 0
    assert books["AR"] == 120 * K + upsell
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()
