"""An amendment in Salesforce that drops an obligation, end to end (Salesforce → Stripe → the
ledger, NetSuite or Sage Intacct), each month closed in turn as `closebot close` does.

A term of 10 months from S (the first of a month), billed annually up front; months 1 and 2
closed, then on day 75 (the third month) a line is deleted from the opportunity. The worked
figures are for a term of P = 304 days (1 January - 31 October, or December to September), the
change on day 75 leaving L = 229 days of the period.

Implementation dropped (the seed deal, RECOGNIZE_ON_DELIVERY): Implementation Services 2,000,000
(not delivered) + Platform Subscription 10,000,000, invoiced 12,000,000. Recognized before the
change: the subscription's 2 x 1,000,000. Stripe bills nothing new (a one-time line). 25-13(a):
the 2,000,000 + 8,000,000 not recognized is the subscription's: months 3-10 8 x 1,250,000.
Closes post 4000: 1,000,000, 1,000,000, then 8 x 1,250,000; 4100 nothing. At the end, on every
ERP: Subscription Revenue 12,000,000, Services 0, Deferred Revenue 0, AR 12,000,000.

Support dropped (two subscription lines): Platform Subscription 10,000,000 + Premium Support
2,000,000 (both recurring), invoiced 12,000,000. Stripe credits Support's unused time,
C = prorated(2,000,000, 229, 304) = 1,506,579, on that invoice. Recognized before the change:
2 x 1,000,000 + 2 x 200,000 = 2,400,000. 25-13(a): 8,000,000 + 1,600,000 - 1,506,579 =
8,093,421 is the subscription's from month 3 (5 x 1,011,678 + 3 x 1,011,677); Support stops at
400,000 and the credit comes out of deferred revenue (Dr Deferred Revenue 1,506,579 / Cr AR).
At the end: revenue 10,093,421 + 400,000 = 10,493,421 = 12,000,000 - 1,506,579, all of it 4000;
Deferred Revenue 0; AR 10,493,421. A replayed sync moves nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger.books_deal import deal_modifications
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance_months,
    clocked,
    ledger_books,
    line_id,
    mirrored,
    on_ledger,
    prorated,
    seed,
    seed_acme,
    today,
)
from tests.integration.erp_books import erp_books
from tests.integration.test_books_replan import IMPL, SUB
from tests.integration.test_books_replan import stack as stack
from tests.integration.test_revenue_close_erps import _close, _erp_revenue

SUPPORT = "Premium Support"


@pytest.fixture
def rt(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    """Deliveries marked by hand; an amendment taking a sixth off the deal within policy (no
    approval in Slack)."""
    return clocked(stack, db_url, sessions, recognize_on_delivery=True,
                   amendment_approval_pct=50)


def _start(stack: SandboxStack) -> date:
    """The first of next month, Stripe's clock moved to its midnight."""
    now = today(stack)
    start = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    advance_months(stack, start, 0)
    return start


def _close_months(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session],
                  start: date, first: int, last: int) -> list[int]:
    """Months `first`..`last` of the term closed in turn; the revenue each close posted."""
    posted = []
    for month in range(first, last + 1):
        advance_months(stack, start, month)
        before = _revenue(stack, sessions)
        _close(stack, rt, sessions, f"{add_months(start, month - 1):%Y-%m}")
        posted.append(_revenue(stack, sessions) - before)
    return posted


def _revenue(stack: SandboxStack, sessions: sessionmaker[Session]) -> int:
    if on_ledger(stack):
        books = ledger_books(sessions)
        return books["Subscription revenue"] + books["Services revenue"]
    journal = _erp_revenue(stack)
    return journal.get("4000", 0) + journal.get("4100", 0)


def _recognized(sessions: sessionmaker[Session], line_id: str) -> int:
    """What the obligation (its line in every version and change order) has recognized."""
    with transaction(sessions) as s:
        return sum(s.scalars(
            select(LedgerRevenueSchedule.amount_minor).join(LedgerSalesOrderLine)
            .where((LedgerSalesOrderLine.external_id == line_id)
                   | LedgerSalesOrderLine.external_id.startswith(f"{line_id}:delta@"),
                   LedgerRevenueSchedule.journal_entry_id.is_not(None))))


def _remove(stack: SandboxStack, line_id: str) -> None:
    """A person deletes the opportunity product (its Amount follows)."""
    sf = stack.salesforce
    with sf.store.transaction():
        sf.store.delete(sf.schema.require("OpportunityLineItem"), line_id)


def _deferred(stack: SandboxStack, sessions: sessionmaker[Session], opp: str) -> int:
    """Deferred Revenue left: the ledger's account, else what the ERP's invoices and credits
    booked as revenue less what the closes released."""
    if on_ledger(stack):
        return ledger_books(sessions)["Deferred revenue"]
    return erp_books(stack, sessions, opp)["Revenue"] - _revenue(stack, sessions)


def _replayed(rt: Runtime, opp: str) -> None:
    """The amendment's bill and post steps run again: nothing moves."""
    with transaction(rt.sessions) as s:
        queue.arm(s, opportunity_id=opp, version=2, step="bill")
        queue.arm(s, opportunity_id=opp, version=2, step="post")
    sync_once(rt)


def test_an_implementation_dropped_before_delivery(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = _start(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    impl, sub = line_id(stack, opp, IMPL), line_id(stack, opp, SUB)
    assert _close_months(stack, rt, sessions, start, 1, 2) == [10 * K, 10 * K]
    advance_months(stack, start, 2)
    stack.stripe.advance(seconds=(start + timedelta(days=75) - add_months(start, 2)).days
                         * 86_400)
    _remove(stack, impl)
    sync_once(rt)
    with transaction(sessions) as s:
        (change,) = deal_modifications(s, opp)
    assert (change.kind, change.remaining) == ("prospective", {impl: 0, sub: 100 * K})
    _replayed(rt, opp)
    assert [i.total_minor for i in mirrored(sessions, opp)] == [120 * K]

    assert _close_months(stack, rt, sessions, start, 3, 10) == [12_500_00] * 8
    assert (_recognized(sessions, impl), _recognized(sessions, sub)) == (0, 120 * K)
    books = erp_books(stack, sessions, opp)
    assert (books["AR"], books["Contra"]) == (120 * K, 0)
    assert _deferred(stack, sessions, opp) == 0
    if on_ledger(stack):
        assert ledger_books(sessions)["Services revenue"] == 0
    else:
        assert _erp_revenue(stack) == {"4000": 120 * K, "2100": -120 * K}
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()


def test_a_support_line_dropped_mid_period_stops_and_takes_the_credit(
    stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
) -> None:
    start = _start(stack)
    opp = seed(stack, DealSpec(
        "Acme Corp - Platform and Support", "Acme Corp", "dana@acme-sales.example", "USD",
        "Annual", "Net 30", 10,
        [LineSpec(SUB, 1, Decimal("100000"), "Recurring"),
         LineSpec(SUPPORT, 1, Decimal("20000"), "Recurring")], start))
    sync_once(rt)
    sub, support = line_id(stack, opp, SUB), line_id(stack, opp, SUPPORT)
    assert _close_months(stack, rt, sessions, start, 1, 2) == [12 * K, 12 * K]
    effective = start + timedelta(days=75)
    period = (add_months(start, 10) - start).days
    credit = prorated(20 * K, period - 75, period)
    if period == 304:  # the figures worked by hand above
        assert credit == 1_506_579
    advance_months(stack, start, 2)
    stack.stripe.advance(seconds=(effective - add_months(start, 2)).days * 86_400)
    _remove(stack, support)
    sync_once(rt)
    sync_once(rt)  # the credit step the amendment armed, and what follows it
    with transaction(sessions) as s:
        (change,) = deal_modifications(s, opp)
    left = 80 * K + 16 * K - credit
    assert change.remaining == {sub: left, support: 0}
    _replayed(rt, opp)
    assert [n["total"] for n in stack.stripe.objects("credit_note")] == [credit]

    posted = _close_months(stack, rt, sessions, start, 3, 10)
    assert sum(posted) == left and max(posted) - min(posted) <= 1
    if period == 304:
        assert posted == [1_011_678] * 5 + [1_011_677] * 3
    assert (_recognized(sessions, support), _recognized(sessions, sub)) == (4 * K, 20 * K + left)
    books = erp_books(stack, sessions, opp)
    assert (books["AR"], books["Contra"]) == (120 * K - credit, 0)
    assert _deferred(stack, sessions, opp) == 0
    if not on_ledger(stack):
        assert _erp_revenue(stack) == {"4000": 120 * K - credit, "2100": credit - 120 * K}
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()
