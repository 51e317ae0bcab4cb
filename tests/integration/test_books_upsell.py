"""Worked examples: a contract changed mid-term, billed and booked from its effective date.

The customer pays the new price from the day closebot first bills the new version: for the rest of
the current billing period the prorated difference, invoiced at once (Stripe's
`always_invoice`), and every later period in full. The ERP gets a change order for exactly that
delta, recognized ratably from the effective date to the end of the term. Policy and rounding:
docs/amendments.md. Each example runs end to end (Salesforce → Stripe → the ERP), on the
embedded ledger, on NetSuite and on Sage Intacct, and ends with the money audit clean.

Stripe prorates by the second and its periods start at midnight UTC, so the share is by whole
days: `prorated(price, days left, days in the period)` below is that arithmetic, written here
independently of the product code; the dates depend on the day the test runs, the figures for a
term starting on 1 January 2026 are written out in each docstring.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import demo_deals
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger.books_deal import Modification, deal_modifications
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    current_period,
    deal_status,
    dollars,
    ledger_books,
    line_id,
    mirrored,
    on_ledger,
    prorated,
    recognize,
    seed,
    seed_acme,
    today,
)
from tests.integration.erp_books import erp_books, erp_credits, erp_invoices, erp_orders


def _replay_bill(rt: Runtime, opp: str, *, version: int) -> None:
    """Run the version's bill step (and so its post) again, as a person's Retry would."""
    with transaction(rt.sessions) as s:
        queue.arm(s, opportunity_id=opp, version=version, step="bill")
    sync_once(rt)


def _modifications(sessions: sessionmaker[Session], opp: str) -> list[Modification]:
    """The deal's classified contract changes, as `closebot books deal` shows them."""
    with transaction(sessions) as s:
        return deal_modifications(s, opp)


def _audit_clean(rt: Runtime) -> None:
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()


def test_annual_upsell_on_day_75(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """The seed deal ($20,000 implementation + $100,000 subscription, 10 months billed annually,
    one period of P days, P = 304 from 1 Jan 2026 to 1 Nov 2026) raised to $110,000 on day 75:
    Stripe bills "Remaining time" at $110,000 for the L = P - 75 days left and credits "Unused
    time" at $100,000, on one invoice:

        D = prorated(11,000,000, L, P) - prorated(10,000,000, L, P)
          (1 Jan 2026: 8,286,184 - 7,532,895 = 753,289, i.e. $7,532.89)

                                        Dr            Cr
        invoice (day 0)  AR           120,000
                         Deferred                   120,000
        implementation   Deferred      20,000
                         Services rev                20,000
        upsell (day 75)  AR                 D
                         Deferred                         D
        months 1-10      Deferred     100,000 + D
                         Subscription rev       100,000 + D

    After the term: AR 120,000 + D (nothing paid), deferred 0, subscription revenue
    100,000 + D, services 20,000. Salesforce books $130,000 (v2's list value); the contract as
    amended is worth 120,000 + D, which is what Stripe bills and the sales orders hold
    (120,000 and the change order D).

    The change is prospective (ASC 606-10-25-13(a)): the months left are distinct from those
    transferred. Before day 75 the implementation (delivered on day 0) and months 1 and 2 are
    recognized (20,000 + 20,000); the 80,000 not yet recognized and D are what is left, all
    of it the subscription's: L1 0, L2 80,000 + D. Recorded once, a replay adding nothing.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    recognize(rt)
    advance(stack, days=75)
    period = (add_months(start, 10) - start).days
    left = period - 75
    upsell = prorated(110 * K, left, period) - prorated(100 * K, left, period)
    assert 0 < upsell < 10 * K

    line = line_id(stack, opp, "Platform Subscription")
    stack.salesforce.update("OpportunityLineItem", line, {"UnitPrice": Decimal("110000")})
    sync_once(rt)

    assert deal_status(sessions, opp) == "synced"
    invoices = mirrored(sessions, opp)
    assert [i.total_minor for i in invoices] == [120 * K, upsell]
    (sub,) = stack.stripe.objects("subscription")
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 110 * K
    (proration,) = [i for i in stack.stripe.objects("invoice")
                    if i["billing_reason"] == "subscription_update"]
    assert sorted(ln["amount"] for ln in proration["lines"]["data"]) == [
        -prorated(100 * K, left, period), prorated(110 * K, left, period)]
    assert dollars(stack.salesforce.get("Opportunity", opp)["Amount"]) == 130 * K
    _replay_bill(rt, opp, version=2)  # a retry or replayed event: nothing billed twice
    assert [i.total_minor for i in mirrored(sessions, opp)] == [120 * K, upsell]
    (change,) = _modifications(sessions, opp)
    assert (change.kind, change.version, change.amends) == ("prospective", 2, 1)
    assert change.remaining == {line_id(stack, opp, "Implementation Services"): 0,
                                line: 80 * K + upsell}
    assert change.catch_up == {} and "606-10-25-13(a)" in change.reason
    assert len([i for i in stack.stripe.objects("invoice")
                if i["billing_reason"] == "subscription_update"]) == 1

    _to_the_end(stack, rt, add_months(start, 11))
    _tie_out(stack, sessions, orders=[120 * K, upsell], subscription=100 * K + upsell,
             services=20 * K)
    _audit_clean(rt)


def _to_the_end(stack: SandboxStack, rt: Runtime, end: date) -> None:
    """Past the term's end, a month at a time: every invoice mirrored, every row recognized."""
    while today(stack) < end:
        advance(stack, days=min(31, (end - today(stack)).days))
        sync_once(rt)
        recognize(rt)
    advance(stack, days=1)
    sync_once(rt)
    recognize(rt)


def _tie_out(stack: SandboxStack, sessions: sessionmaker[Session], *, orders: list[int],
             subscription: int, services: int, credits: int = 0,
             orders_held: list[int] | None = None) -> None:
    """After the term, nothing paid: AR holds everything billed less the credits, which is
    what the sales orders hold less the credit memos, all of it recognized, nothing deferred."""
    billed = sum(orders) - credits
    stripe_billed = sum(i["total"] for i in stack.stripe.objects("invoice")
                        if i["status"] != "void")
    assert stripe_billed - sum(n["amount"] for n in stack.stripe.objects("credit_note")) == billed
    assert subscription + services == billed
    assert erp_books(stack, sessions) == {"AR": billed, "Revenue": billed, "Contra": 0}
    if on_ledger(stack):
        assert ledger_books(sessions) == {
            "AR": billed, "Deferred revenue": 0, "Sales tax payable": 0,
            "Subscription revenue": subscription, "Services revenue": services,
            "Bad debt expense": 0}
        return
    assert erp_orders(stack) == sorted(orders_held or orders)
    assert (sum(erp_invoices(stack) or []), sum(erp_credits(stack) or [])) == (
        billed + credits, credits)


def test_monthly_upsell_on_day_75(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """The seed deal billed monthly ($20,000 implementation with the first month, then
    $10,000 a month for 10 months), raised to $110,000 ($11,000 a month) on day 75, in month
    k + 1 (k = 2: day 75 falls in the third month for any start), with L of its M days left:

        D = prorated(1,100,000, L, M) - prorated(1,000,000, L, M)   now, on its own invoice
            + 7 x 100,000                                           months 4-10, at $11,000
          (1 Jan 2026: day 75 is 17 March, L = 15 of 31: 532,258 - 483,871 = 48,387;
           D = 748,387)

    Billed: 30,000 (implementation and month 1), 10,000, 10,000, the prorated difference, then
    7 x 11,000: 120,000 + D over the term, the change order holding D. After the term:
    AR 120,000 + D, deferred 0, subscription revenue 100,000 + D, services 20,000.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp = seed(stack, replace(demo_deals(start)[0], cadence="Monthly", start=start))
    sync_once(rt)
    recognize(rt)
    for _ in range(3):
        advance(stack, days=25)
        sync_once(rt)
    k, left, days = current_period(start, today(stack), 1)
    assert k == 2
    upsell = prorated(11 * K, left, days) - prorated(10 * K, left, days) + 7 * K

    line = line_id(stack, opp, "Platform Subscription")
    stack.salesforce.update("OpportunityLineItem", line, {"UnitPrice": Decimal("110000")})
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    assert [i.total_minor for i in mirrored(sessions, opp)] == [
        30 * K, 10 * K, 10 * K, upsell - 7 * K]

    _to_the_end(stack, rt, add_months(start, 10))
    assert [i.total_minor for i in mirrored(sessions, opp)][4:] == [11 * K] * 7
    _tie_out(stack, sessions, orders=[120 * K, upsell], subscription=100 * K + upsell,
             services=20 * K)
    _audit_clean(rt)


def test_eight_percent_on_a_twelve_month_annual_deal(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Globex, $48,000 for 12 months billed annually (one period of P = 365 or 366 days),
    raised 8% to $51,840 on day 100, inside the 10% amendment policy (no approval):

        D = prorated(5,184,000, P - 100, P) - prorated(4,800,000, P - 100, P)
          (1 Jan 2026: 3,763,726 - 3,484,932 = 278,794, i.e. $2,787.94)

                                  Dr           Cr
        invoice (day 0)  AR      48,000
                         Deferred              48,000
        +8% (day 100)    AR           D
                         Deferred                   D
        months 1-12      Deferred 48,000 + D
                         Subscription rev   48,000 + D

    After the term: AR 48,000 + D, deferred 0, subscription revenue 48,000 + D.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    globex = next(d for d in demo_deals(start) if d.account == "Globex")
    opp = seed(stack, replace(globex, cadence="Annual", start=start))
    sync_once(rt)
    advance(stack, days=100)
    period = (add_months(start, 12) - start).days
    upsell = prorated(5_184_000, period - 100, period) - prorated(48 * K, period - 100, period)

    line = line_id(stack, opp, "Platform Subscription")
    stack.salesforce.update("OpportunityLineItem", line, {"UnitPrice": Decimal("51840")})
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    assert [i.total_minor for i in mirrored(sessions, opp)] == [48 * K, upsell]

    _to_the_end(stack, rt, add_months(start, 12))
    _tie_out(stack, sessions, orders=[48 * K, upsell], subscription=48 * K + upsell, services=0)
    _audit_clean(rt)


def test_quarterly_seat_decrease(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Umbrella, 50 seats at $600 a quarter ($120,000 over 12 months, billed quarterly), down
    to 48 seats on day 45, in the first quarter of Q days with L left (within policy: -4%):

        C = prorated(3,000,000, L, Q) - prorated(2,880,000, L, Q)   credit note on invoice 1
          (1 Jan 2026: Q = 90, L = 45: 1,500,000 - 1,440,000 = 60,000, i.e. $600)
        change order: -3 x 120,000 = -360,000 for quarters 2-4 (their months re-planned)

                                        Dr            Cr
        invoice 1 (day 0)  AR          30,000
                           Deferred                  30,000
        credit (day 45)    Deferred         C
                           AR                             C   (months 2-3 of quarter 1 shrink)
        invoices 2-4       AR          86,400
                           Deferred                  86,400
        months 1-12        Deferred   116,400 - C
                           Subscription rev     116,400 - C

    After the term: AR 116,400 - C, deferred 0, subscription revenue 116,400 - C; Stripe
    billed 30,000 + 3 x 28,800 less the credit note C; the sales orders hold 120,000 and
    -3,600 (on NetSuite and Sage Intacct, which refuse a negative order, one order of 116,400
    whose added line is the change order's); never a stuck retry, never a second credit.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    umbrella = next(d for d in demo_deals(start) if d.account == "Umbrella Health")
    opp = seed(stack, umbrella)
    sync_once(rt)
    recognize(rt)
    advance(stack, days=45)
    _, left, days = current_period(start, today(stack), 3)
    credit = prorated(30 * K, left, days) - prorated(28_800 * 100, left, days)
    assert credit > 0

    line = line_id(stack, opp, "Platform Seats")
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 48})
    sync_once(rt)
    sync_once(rt)  # a replay of everything: nothing twice
    assert deal_status(sessions, opp) == "synced"
    _replay_bill(rt, opp, version=2)  # the change order posted again: its line added once
    assert erp_orders(stack) in (None, [116_400 * 100])
    (note,) = stack.stripe.objects("credit_note")
    assert note["amount"] == credit
    (first,) = mirrored(sessions, opp)
    assert first.amount_remaining_minor == 30 * K - credit

    _to_the_end(stack, rt, add_months(start, 12))
    assert [i.total_minor for i in mirrored(sessions, opp)] == [30 * K] + [28_800 * 100] * 3
    assert len(stack.stripe.objects("credit_note")) == 1
    # NetSuite and Sage Intacct refuse a negative sales order: the change order's line lowers
    # the first one.
    _tie_out(stack, sessions, orders=[120 * K, -3_600 * 100], credits=credit,
             subscription=116_400 * 100 - credit, services=0,
             orders_held=[116_400 * 100])
    _audit_clean(rt)
