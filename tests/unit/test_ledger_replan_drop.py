"""Modifications that take revenue away, re-planned on the embedded ledger and worked by hand to
the cent: an obligation dropped prospectively, and a negative cumulative catch-up.

Dropped (ASC 606-10-25-13(a)): Acme's Implementation Services $20,000 (one-time, to be
delivered 15 June 2026) + Platform Subscription $100,000, 1 Jan - 31 Oct 2026, 10 rows of
1,000,000; invoiced 12,000,000 on 1 January, nothing credited. January and February recognized
(2,000,000). On 17 March the amendment removes the implementation, not delivered yet; the
subscription is unchanged, so Stripe bills nothing new. The old contract ends: what was not
recognized, 2,000,000 (implementation) + 8,000,000 (subscription, March-October), is the new
contract's price, all of it the subscription's, the only obligation left:
  implementation: its one row 2,000,000 -> 0 (it recognizes nothing more);
  subscription: March-October rows 8 x 1,000,000 -> 8 x 1,250,000 = 10,000,000;
  prices: implementation 2,000,000 -> 0, subscription 10,000,000 -> 12,000,000.
By 31 December: Services Revenue 0, Subscription Revenue 2,000,000 + 10,000,000 = 12,000,000 =
invoiced; Deferred Revenue 0; AR 12,000,000.

Dropped with a credit: Platform Subscription 10,000,000 + Premium Support 2,000,000, both
ratable 1 Jan - 31 Oct 2026 (10 rows each, 1,000,000 and 200,000), invoiced 12,000,000 on 1
January; January and February recognized (2,400,000). On 17 March Support is removed: Stripe
credits its unused time, prorated(2,000,000, 229, 304) = 1,506,579, on the invoice. The credit
memo is booked first (Dr Deferred Revenue 1,506,579 / Cr AR 1,506,579), then the re-plan:
  pool: 8,000,000 + 1,600,000 - 1,506,579 = 8,093,421, all the subscription's;
  subscription: March-October rows -> 5 x 1,011,678 + 3 x 1,011,677 = 8,093,421;
  support: its March-October rows -> 0 (it stops at the 400,000 it recognized);
  prices: support 2,000,000 -> 400,000, subscription 10,000,000 -> 11,600,000 (the credit is
  taken from what the subscription plans: 11,600,000 - 1,506,579 = 10,093,421).
By 31 December: Subscription Revenue (both lines) 2,400,000 + 8,093,421 = 10,493,421 =
12,000,000 - 1,506,579; Deferred Revenue 0; AR 10,493,421.

Negative catch-up (ASC 606-10-25-13(b)): Implementation Services $30,000 by milestones 40/60,
billed as each is reached, + the same subscription invoiced 10,000,000 on 1 January. Milestone
1 reached 20 February: 1,200,000 recognized and invoiced. On 1 April the implementation's price
is cut to $20,000 (scope taken out of the same work): 20,000 x 40% = 8,000 measured, so the
catch-up is 8,000 - 12,000 = -4,000.00, Dr Services Revenue 400,000 / Cr Deferred Revenue
400,000 on 1 April; milestone 2's row 1,800,000 -> 1,200,000 (the 12,000 left); the price
3,000,000 -> 2,000,000. By 30 April: Services Revenue 1,200,000 - 400,000 = 800,000,
Subscription Revenue 4,000,000; invoiced 11,200,000, Deferred Revenue 11,200,000 - 4,800,000 =
6,400,000 (the implementation's 1,200,000 - 800,000 = 400,000 billed ahead of it among them).
Milestone 2 reached 30 June, billed 800,000 (the new price's rest): by 31 December Services
Revenue 2,000,000, Subscription 10,000,000, Deferred 0, AR 12,000,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import DEFAULT_REQUIRED_FIELDS
from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.contracts.normalize import normalize
from sync.engine.modification import classify_amendment
from sync.ledger import InvoiceLineIn, Ledger, LedgerError, SalesOrderLineIn
from sync.ledger.accounts import (
    DEFERRED_REVENUE,
    RECEIVABLE,
    SERVICES_REVENUE,
    SUBSCRIPTION_REVENUE,
)
from sync.revenue.modifications import Kind
from tests.unit.deals import deal, line
from tests.unit.test_ledger_replan import (
    APRIL_1,
    IMPL,
    JAN_1,
    OCT_31,
    SUB,
    _audit,
    _deal,
    _invoice,
    _planned,
)
from tests.unit.test_revenue_modifications import MARCH_17, _acme, _milestones

NOV_1 = date(2026, 11, 1)
SUPPORT = "Premium Support"


def _subscription_only() -> object:
    lines = [line("L2", "Platform Subscription", "100000")]
    return normalize(deal(amount="100000", lines=lines), version=2,
                     required=DEFAULT_REQUIRED_FIELDS)


def test_a_dropped_obligation_recognizes_nothing_more(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    delivery = date(2026, 6, 15)
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 2_000_000, False, delivery, delivery,
                                   "point_in_time"))
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1, [
        InvoiceLineIn(IMPL, 2_000_000), InvoiceLineIn(SUB, 10_000_000, True, JAN_1, NOV_1)])
    assert ledger.recognize_revenue(through=date(2026, 2, 28)) == 2

    found = classify_amendment(_acme("100000", 1), _subscription_only(), MARCH_17,
                               on_delivery=True)
    assert found is not None and found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L1": 0, "L2": 10_000_000}
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 2
    assert _planned(sessions, "L1", MARCH_17) == 0
    assert _planned(sessions, "L2", MARCH_17) == 10_000_000
    assert _audit(sessions) == []
    # A replay (a retried post step) moves nothing.
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 0

    ledger.recognize_revenue(through=date(2026, 3, 31))
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 3_250_000
    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 0
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 12_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert ledger.account_balance(RECEIVABLE, "USD") == 12_000_000
    assert _audit(sessions) == []


SUPPORT_CREDIT = 1_506_579  # Support's unused 229 of 304 days


def _with_support(version: int, support: bool = True) -> object:
    lines = [line("L2", "Platform Subscription", "100000")]
    lines += [line("L3", "Premium Support", "20000")] if support else []
    return normalize(deal(amount="120000" if support else "100000", lines=lines),
                     version=version, required=DEFAULT_REQUIRED_FIELDS)


def support_deal(ledger: Ledger) -> None:
    """Subscription + Support invoiced on 1 January; Support dropped on 17 March, its credit
    memo booked, then the re-plan (as the amendment's post step runs them)."""
    ledger.upsert_customer(external_id="001ACME", name="Acme", currency="USD")
    ledger.upsert_sales_order(
        external_id="006DEAL:v1", customer_external_id="001ACME", currency="USD", lines=[
            SalesOrderLineIn("L2", SUB, 10_000_000, True, JAN_1, OCT_31, "ratable"),
            SalesOrderLineIn("L3", SUPPORT, 2_000_000, True, JAN_1, OCT_31, "ratable")])
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1, [
        InvoiceLineIn(SUB, 10_000_000, True, JAN_1, NOV_1, obligation="L2"),
        InvoiceLineIn(SUPPORT, 2_000_000, True, JAN_1, NOV_1, obligation="L3")])


def drop_support(ledger: Ledger) -> dict[str, int]:
    found = classify_amendment(_with_support(1), _with_support(2, support=False), MARCH_17)
    assert found is not None and found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L2": 8_093_421, "L3": 0}
    ledger.post_credit_memo(external_id="cn_1", invoice_external_id="in_1",
                            amount_minor=SUPPORT_CREDIT, currency="USD",
                            reason="Lower price from 2026-03-17", posted_on=MARCH_17)
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 2
    return found.remaining


def test_a_dropped_line_stripe_credits_stops_and_takes_the_credit(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    support_deal(ledger)
    assert ledger.recognize_revenue(through=date(2026, 2, 28)) == 4
    remaining = drop_support(ledger)
    assert _planned(sessions, "L3", MARCH_17) == 0
    with sessions() as s:
        rows = sorted(s.scalars(select(LedgerRevenueSchedule.amount_minor).join(
            LedgerSalesOrderLine).where(LedgerSalesOrderLine.external_id == "L2",
                                        LedgerRevenueSchedule.recognize_on >= MARCH_17)),
                      reverse=True)
        prices = dict(s.execute(select(LedgerSalesOrderLine.external_id,
                                       LedgerSalesOrderLine.amount_minor)).all())
    assert rows == [1_011_678] * 5 + [1_011_677] * 3
    assert prices == {"L2": 11_600_000, "L3": 400_000}
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 9_600_000 - SUPPORT_CREDIT
    assert _audit(sessions) == []
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17, remaining=remaining,
                         catch_up={}) == 0

    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 10_493_421
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert ledger.account_balance(RECEIVABLE, "USD") == 12_000_000 - SUPPORT_CREDIT
    assert _audit(sessions) == []


def milestone_deal(ledger: Ledger) -> None:
    """The implementation by milestones, its first reached and billed on 20 February."""
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 3_000_000, False, JAN_1, date(2026, 10, 31),
                                   "milestone", milestones=(Decimal(40), Decimal(60))))
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1,
             [InvoiceLineIn(SUB, 10_000_000, True, JAN_1, NOV_1)])
    ledger.mark_delivered(opportunity_id="006DEAL", product=IMPL, on=date(2026, 2, 20),
                          by="ops", today=date(2026, 2, 20))
    _invoice(ledger, "in_m1", "006DEAL:v1", date(2026, 2, 20), [InvoiceLineIn(IMPL, 1_200_000)])
    ledger.recognize_revenue(through=date(2026, 3, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 1_200_000


def test_a_negative_catch_up_lowers_revenue_on_the_effective_day(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    milestone_deal(ledger)
    found = classify_amendment(_milestones("30000", 1), _milestones("20000", 2), APRIL_1,
                               recognized={"L1": 1_200_000})
    assert found is not None and found.kind is Kind.CUMULATIVE_CATCH_UP
    assert found.catch_up == {"L1": -400_000}
    assert found.remaining == {"L1": 1_200_000, "L2": 7_000_000}
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 1
    assert _planned(sessions, "L1", APRIL_1) == -400_000 + 1_200_000
    assert _planned(sessions, "L2", APRIL_1) == 7_000_000
    assert _audit(sessions) == []
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 0

    ledger.recognize_revenue(through=date(2026, 4, 30))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 800_000
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 4_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 6_400_000
    assert _audit(sessions) == []
    # Replayed once the catch-up is posted: still nothing new.
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 0

    ledger.mark_delivered(opportunity_id="006DEAL", product=IMPL, on=date(2026, 6, 30),
                          by="ops", today=date(2026, 6, 30))
    _invoice(ledger, "in_m2", "006DEAL:v1", date(2026, 6, 30), [InvoiceLineIn(IMPL, 800_000)])
    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 2_000_000
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 10_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert ledger.account_balance(RECEIVABLE, "USD") == 12_000_000
    assert _audit(sessions) == []


def test_a_catch_up_below_zero_revenue_is_refused(sessions: sessionmaker[Session]) -> None:
    """1,200,000 recognized; a catch-up of -1,200,001 would leave the implementation with
    revenue below zero: refused with the reason, nothing moved."""
    ledger = Ledger(sessions)
    milestone_deal(ledger)
    with pytest.raises(LedgerError, match=r"below zero.*USD 12,000\.00 recognized"):
        ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                      remaining={"L1": 0}, catch_up={"L1": -1_200_001})
    assert _planned(sessions, "L1", APRIL_1) == 1_800_000


def test_a_catch_up_waiting_to_post_explains_revenue_over_the_new_price(
        sessions: sessionmaker[Session]) -> None:
    """The implementation cut from 30,000.00 to 10,000.00 with 40% done: 4,000.00 measured
    against 12,000.00 recognized, a catch-up of -8,000.00, 6,000.00 left for milestone 2, the
    price 10,000.00. Until the catch-up posts, 12,000.00 recognized is more than that price, but
    the catch-up due explains it: the audit is clean before and after it posts (Services
    Revenue 4,000.00)."""
    ledger = Ledger(sessions)
    milestone_deal(ledger)
    found = classify_amendment(_milestones("30000", 1), _milestones("10000", 2), APRIL_1,
                               recognized={"L1": 1_200_000})
    assert found is not None and found.catch_up == {"L1": -800_000}
    assert found.remaining["L1"] == 600_000
    ledger.replan(opportunity_id="006DEAL", effective=APRIL_1, remaining=found.remaining,
                  catch_up=found.catch_up)
    assert _audit(sessions) == []
    ledger.recognize_revenue(through=date(2026, 4, 30))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 400_000
    assert _audit(sessions) == []
