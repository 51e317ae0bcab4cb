"""The embedded ledger's schedules re-planned to a classified contract modification
(ASC 606-10-25-13), worked by hand to the cent; the audit's per-obligation tie-out holds.

Prospective (Acme, the figures of tests/unit/test_revenue_modifications.py): Implementation
Services $20,000 (one-time, delivered 15 June 2026) + Platform Subscription $100,000, 1 Jan -
31 Oct 2026, 10 rows of 1,000,000; invoiced 12,000,000 on 1 January. January and February
recognized (2,000,000). On 17 March the subscription goes to $110,000: the change order holds
L2:delta@2026-03-17 of 753,289 (11,000,000 x 229/304 - 10,000,000 x 229/304, half up each),
invoiced that day. The classification allocates the pool 10,000,000 + 753,289 = 10,753,289:
implementation 2,090,822, subscription 8,662,467. So:
  implementation: its one row 2,000,000 -> 2,090,822 (+90,822);
  subscription: March-October rows 8,000,000 + change order 753,289 = 8,753,289 -> 8,662,467
  (-90,822); its price 10,000,000 + 753,289 - 90,822 = 10,662,467 = 2,000,000 + 8,662,467.
By 31 December: Services Revenue 2,090,822, Subscription Revenue 10,662,467, together
12,753,289 = invoiced 12,000,000 + 753,289; Deferred Revenue 0; AR 12,753,289 (unpaid).

Cumulative catch-up: Implementation Services $30,000 by milestones 40/60 + the same
subscription; invoiced 13,000,000 on 1 January. Milestone 1 reached 20 February: 1,200,000
recognized (40%). On 1 April the implementation is raised to $36,000 (scope added to the same
work; invoiced 600,000 that day): 36,000 x 40% = 14,400 measured, a catch-up of 2,400.00 posted
on 1 April; the second milestone's row 1,800,000 -> 2,160,000. The subscription (7,000,000 left,
April-October) does not move. By 30 April: Services Revenue 1,440,000, Subscription Revenue
4,000,000, Deferred Revenue 13,600,000 - 5,440,000 = 8,160,000. After milestone 2 and October:
Services 3,600,000 + Subscription 10,000,000 = 13,600,000 = invoiced; Deferred 0.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.engine.modification import classify_amendment
from sync.ledger import InvoiceLineIn, Ledger, LedgerError, SalesOrderLineIn, audit_view
from sync.ledger.accounts import (
    DEFERRED_REVENUE,
    RECEIVABLE,
    SERVICES_REVENUE,
    SUBSCRIPTION_REVENUE,
)
from sync.ops.audit_books import check_ledger
from sync.ops.audit_variance import Found
from sync.revenue.modifications import Kind
from tests.unit.test_revenue_modifications import MARCH_17, _acme, _milestones

IMPL, SUB = "Implementation Services", "Platform Subscription"
JAN_1, OCT_31 = date(2026, 1, 1), date(2026, 10, 31)
APRIL_1 = date(2026, 4, 1)


def _deal(ledger: Ledger, implementation: SalesOrderLineIn) -> None:
    ledger.upsert_customer(external_id="001ACME", name="Acme", currency="USD")
    ledger.upsert_sales_order(
        external_id="006DEAL:v1", customer_external_id="001ACME", currency="USD",
        lines=[implementation,
               SalesOrderLineIn("L2", SUB, 10_000_000, True, JAN_1, OCT_31, "ratable")])


def _invoice(ledger: Ledger, external_id: str, order: str, on: date,
             lines: list[InvoiceLineIn]) -> None:
    ledger.post_invoice(external_id=external_id, customer_external_id="001ACME",
                        sales_order_external_id=order, number=external_id, currency="USD",
                        issued_on=on, due_on=on, lines=lines)


def _planned(sessions: sessionmaker[Session], line_id: str, since: date) -> int:
    """What an obligation's rows (any version, any change order) plan from `since`."""
    with sessions() as s:
        return sum(s.scalars(
            select(LedgerRevenueSchedule.amount_minor)
            .join(LedgerSalesOrderLine)
            .where((LedgerSalesOrderLine.external_id == line_id)
                   | LedgerSalesOrderLine.external_id.startswith(f"{line_id}:delta@"),
                   LedgerRevenueSchedule.recognize_on >= since)))


def _audit(sessions: sessionmaker[Session]) -> list[tuple[str, int | None]]:
    found = Found()
    with sessions() as s:
        check_ledger(found, audit_view.books(s), audit_view.posted_invoices(s),
                     audit_view.posted_credits(s), "closebot ledger", {})
    return [(v.kind, v.difference_minor) for v in found.variances]


def test_a_prospective_upsell_moves_revenue_between_both_obligations(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    delivered = date(2026, 6, 15)
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 2_000_000, False, delivered, delivered,
                                   "point_in_time"))
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1, [
        InvoiceLineIn(IMPL, 2_000_000), InvoiceLineIn(SUB, 10_000_000, True, JAN_1,
                                                      date(2026, 11, 1))])
    assert ledger.recognize_revenue(through=date(2026, 2, 28)) == 2
    ledger.upsert_sales_order(
        external_id="006DEAL:v2", customer_external_id="001ACME", currency="USD",
        lines=[SalesOrderLineIn("L2:delta@2026-03-17", SUB, 753_289, True, MARCH_17, OCT_31,
                                "ratable")])
    _invoice(ledger, "in_2", "006DEAL:v2", MARCH_17, [
        InvoiceLineIn(SUB, 753_289, True, MARCH_17, date(2026, 11, 1))])

    found = classify_amendment(_acme("100000", 1), _acme("110000", 2), MARCH_17,
                               on_delivery=True)
    assert found is not None and found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L1": 2_090_822, "L2": 8_662_467}
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 2
    assert _planned(sessions, "L1", MARCH_17) == 2_090_822
    assert _planned(sessions, "L2", MARCH_17) == 8_662_467
    assert _audit(sessions) == []

    # A replay (a retried post step) moves nothing.
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 0
    assert _planned(sessions, "L2", MARCH_17) == 8_662_467

    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 2_090_822
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 10_662_467
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert ledger.account_balance(RECEIVABLE, "USD") == 12_753_289
    assert _audit(sessions) == []

    # A schedule moved without its price is not explained by any allocation: flagged.
    with sessions.begin() as s:
        row = s.scalars(select(LedgerRevenueSchedule).join(LedgerSalesOrderLine)
                        .where(LedgerSalesOrderLine.external_id == "L1")).one()
        row.amount_minor += 1
    assert ("schedule_not_replanned", 1) in _audit(sessions)


def test_a_catch_up_on_a_partly_done_milestone_obligation(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 3_000_000, False, JAN_1, OCT_31, "milestone",
                                   milestones=(Decimal(40), Decimal(60))))
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1, [
        InvoiceLineIn(IMPL, 3_000_000), InvoiceLineIn(SUB, 10_000_000, True, JAN_1,
                                                      date(2026, 11, 1))])
    ledger.mark_delivered(opportunity_id="006DEAL", product=IMPL, on=date(2026, 2, 20),
                          by="ops", today=date(2026, 2, 20))
    ledger.recognize_revenue(through=date(2026, 3, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 1_200_000
    # The added scope, billed on the day it takes effect.
    _invoice(ledger, "in_2", "006DEAL:v1", APRIL_1, [InvoiceLineIn(IMPL, 600_000)])

    found = classify_amendment(_milestones("30000", 1), _milestones("36000", 2), APRIL_1,
                               recognized={"L1": 1_200_000})
    assert found is not None and found.kind is Kind.CUMULATIVE_CATCH_UP
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 1
    assert _planned(sessions, "L1", APRIL_1) == 240_000 + 2_160_000
    assert _planned(sessions, "L2", APRIL_1) == 7_000_000
    assert _audit(sessions) == []
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 0

    ledger.recognize_revenue(through=date(2026, 4, 30))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 1_440_000
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 4_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 8_160_000
    # Replayed once the catch-up is posted: still nothing new.
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 0

    ledger.mark_delivered(opportunity_id="006DEAL", product=IMPL, on=date(2026, 6, 30),
                          by="ops", today=date(2026, 6, 30))
    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 3_600_000
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 10_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert _audit(sessions) == []


def test_a_plan_that_cannot_be_met_moves_nothing(sessions: sessionmaker[Session]) -> None:
    """The subscription recognized through March (3,000,000 of rows dated from 31 January on):
    a classification leaving it 2,000,000 from 1 January is less than what is already
    recognized since then. Refused with the reason; no row moves."""
    ledger = Ledger(sessions)
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 2_000_000, False, JAN_1, JAN_1,
                                   "point_in_time"))
    ledger.recognize_revenue(through=date(2026, 3, 31))
    with pytest.raises(LedgerError, match=r"USD 30,000\.00 is already recognized"):
        ledger.replan(opportunity_id="006DEAL", effective=JAN_1,
                      remaining={"L1": 2_000_000, "L2": 2_000_000}, catch_up={})
    assert _planned(sessions, "L2", JAN_1) == 10_000_000
    # A negative catch-up takes back revenue recognized, never more than was (30,000.00).
    with pytest.raises(LedgerError, match=r"below zero: only USD 30,000\.00 recognized"):
        ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                      remaining={"L2": 7_000_000}, catch_up={"L2": -3_000_001})
    assert _planned(sessions, "L2", APRIL_1) == 7_000_000
