"""Worked examples: a credit approved in Slack, booked against deferred revenue.

The seed deal: $120,000 = $20,000 implementation (recognized on delivery, day 1) + $100,000
platform subscription (10 x $10,000 a month), one annual invoice. A credit comes out of what the
invoice's obligations have not earned yet (deferred revenue) and the schedule is re-planned; only
a credit beyond that is contra revenue. The policy: `sync/ledger/replan.py`. The embedded ledger
only: NetSuite keeps its own revenue schedules.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrderLine
from storage.tables import Approval
from sync.engine import credit
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    mirrored,
    recognize,
    seed_acme,
    today,
)

CONTRA = "4900"


@pytest.fixture
def books_stack() -> Iterator[SandboxStack]:
    with SandboxStack(slack=False) as stack:
        yield stack


def _approve_credit(rt: Runtime, opp: str, invoice: str, amount: int) -> None:
    """What an approved `/credit` leaves behind (the decision recorded, the step armed), then
    the credit step itself, as the click runs it."""
    with transaction(rt.sessions) as s:
        ap = Approval(kind="credit", subject=invoice, opportunity_id=opp, contract_version=1,
                      requested_by="UREQUEST1", amount_minor=amount, currency="USD",
                      status="approved", version=2, decisions=[], reasons=[],
                      payload={"reason": "service concession"})
        s.add(ap)
        s.flush()
        credit.arm(s, ap)
    sync_once(rt)


def _books(sessions: sessionmaker[Session]) -> dict[str, int]:
    trial = Ledger(sessions).trial_balance("USD")
    return {"AR": trial.get("1100", 0), "Deferred": -trial.get("2100", 0),
            "Subscription": -trial.get("4000", 0), "Services": -trial.get("4100", 0),
            "Contra": trial.get(CONTRA, 0)}


def _subscription_rows(sessions: sessionmaker[Session]) -> list[int]:
    with transaction(sessions) as s:
        return list(s.scalars(
            select(LedgerRevenueSchedule.amount_minor)
            .join(LedgerSalesOrderLine,
                  LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
            .where(LedgerSalesOrderLine.recognition == "ratable")
            .order_by(LedgerRevenueSchedule.period_no)))


def _billed(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
            ) -> tuple[str, str]:
    opp = seed_acme(stack, today(stack))
    sync_once(rt)
    recognize(rt)  # the implementation, delivered on day 1
    (invoice,) = mirrored(sessions, opp)
    return opp, invoice.billing_id


def test_credit_before_any_month_is_delivered(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """$10,000 on day 10, before any subscription month was delivered.

                                   Dr         Cr
        invoice     AR           120,000
                    Deferred                 120,000
        delivery    Deferred      20,000
                    Services rev              20,000
        credit      Deferred      10,000
                    AR                        10,000
        months 1-10 Deferred      90,000     (10 x 9,000)
                    Subscription rev          90,000

    After the term: AR 110,000, deferred 0, revenue 110,000 (90,000 + 20,000), contra 0.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp, invoice = _billed(stack, rt, sessions)
    advance(stack, days=10)
    _approve_credit(rt, opp, invoice, 10 * K)

    assert [n["amount"] for n in stack.stripe.objects("credit_note")] == [10 * K]
    assert _books(sessions) == {"AR": 110 * K, "Deferred": 90 * K, "Subscription": 0,
                                "Services": 20 * K, "Contra": 0}
    assert _subscription_rows(sessions) == [9 * K] * 10
    advance_months(stack, start, 11)
    recognize(rt)
    assert _books(sessions) == {"AR": 110 * K, "Deferred": 0, "Subscription": 90 * K,
                                "Services": 20 * K, "Contra": 0}
    (mirror,) = mirrored(sessions, opp)
    assert mirror.amount_remaining_minor == 110 * K


def test_credit_after_three_months_recognized(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """$10,000 after three months ($30,000 of the subscription recognized).

                                   Dr         Cr
        invoice     AR           120,000
                    Deferred                 120,000
        delivery    Deferred      20,000
                    Services rev              20,000
        months 1-3  Deferred      30,000
                    Subscription rev          30,000
        credit      Deferred      10,000     (70,000 deferred -> 60,000)
                    AR                        10,000
        months 4-10 Deferred      60,000     (6 x 8,571.43 + 8,571.42)
                    Subscription rev          60,000

    After the term: AR 110,000, deferred 0, subscription revenue 90,000, services 20,000:
    recognized 110,000 = 120,000 - 10,000, nothing to contra revenue.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp, invoice = _billed(stack, rt, sessions)
    advance_months(stack, start, 3)
    advance(stack, days=1)
    recognize(rt)
    assert _books(sessions)["Subscription"] == 30 * K
    _approve_credit(rt, opp, invoice, 10 * K)

    assert _books(sessions) == {"AR": 110 * K, "Deferred": 60 * K, "Subscription": 30 * K,
                                "Services": 20 * K, "Contra": 0}
    rows = _subscription_rows(sessions)
    assert rows[:3] == [10 * K] * 3
    assert sorted(rows[3:]) == [857_142] + [857_143] * 6
    assert sum(rows[3:]) == 60 * K
    advance_months(stack, start, 11)
    recognize(rt)
    assert _books(sessions) == {"AR": 110 * K, "Deferred": 0, "Subscription": 90 * K,
                                "Services": 20 * K, "Contra": 0}
