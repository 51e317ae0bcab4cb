"""Worked examples: modifications that take revenue away reach NetSuite and Sage Intacct through
the revenue subledger's month-end close, to the cent (the figures of
tests/unit/test_ledger_replan_drop.py, on the subledger's own tables; each month closed in turn
with `close_on_erp`, the ERP's journal read back from its emulator).

Negative catch-up. Implementation Services $30,000 by milestones 40/60, its first reached on 20
February 2026 (1,200,000), + Platform Subscription $100,000, 1 Jan - 31 Oct, 1,000,000 a month.
January to April are closed, then the amendment of 1 April cuts the implementation to $20,000:
a catch-up of -400,000 dated 1 April, in a closed period, so it is released on 1 May, the next
open day, and May's entry `closebot-rev-2026-05-USD` is
    Dr Deferred Revenue 600,000 + Dr Services revenue (4100) 400,000 / Cr Subscription (4000)
    1,000,000.
Milestone 2 on 30 June releases 1,200,000. Over January-December the revenue journal carries
4100: 1,200,000 - 400,000 + 1,200,000 = 2,000,000; 4000: 10,000,000; 2100: -12,000,000, the
ledger's Services and Subscription revenue exactly.

Dropped obligation. The $20,000 implementation (to be delivered 15 June) is dropped on 17
March, January and February closed: the subscription's March-October rows become 8 x 1,250,000;
June releases no services revenue. The journal: 4100 nothing, 4000 2,000,000 + 10,000,000 =
12,000,000, 2100 -12,000,000.

Dropped with a credit. Support ($20,000 beside the $100,000 subscription) dropped on 17 March,
January and February closed, its credit memo of 1,506,579 booked, then the re-plan: March's
entry releases the subscription's 1,011,678 and no Support; over January-December 4000:
2,400,000 + 8,093,421 = 10,493,421 = 12,000,000 - 1,506,579, 2100 -10,493,421.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.wiring import make_revenue_journal
from sandbox.stack import SandboxStack
from sync.dates import add_months
from sync.engine.modification import classify_amendment
from sync.engine.runtime import Runtime
from sync.ledger import InvoiceLineIn, Ledger, SalesOrderLineIn
from sync.ledger.accounts import DEFERRED_REVENUE, SERVICES_REVENUE, SUBSCRIPTION_REVENUE
from sync.ledger.subledger_close import close_on_erp
from sync.ports_revenue import RevenueJournal
from tests.integration.books import (
    books_rt,  # noqa: F401 - a fixture
    erp_stack,
    ns_records,
)
from tests.integration.test_revenue_close_erps import _entries, _erp_revenue
from tests.unit.test_ledger_replan import APRIL_1, IMPL, JAN_1, SUB, _audit, _deal, _invoice
from tests.unit.test_ledger_replan_drop import (
    _subscription_only,
    drop_support,
    milestone_deal,
    support_deal,
)
from tests.unit.test_revenue_modifications import MARCH_17, _acme, _milestones

TODAY = date(2027, 1, 15)  # every month of 2026 has ended


@pytest.fixture(params=["netsuite", "intacct"], name="books_stack")
def erp_only(request: pytest.FixtureRequest) -> Iterator[SandboxStack]:
    yield from erp_stack(request)


def _journal(rt: Runtime) -> RevenueJournal:
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    return journal


def _close(ledger: Ledger, journal: RevenueJournal, first: int, last: int) -> None:
    """Months `first`..`last` of 2026 closed in turn, as `closebot close --period` does."""
    for month in range(first, last + 1):
        close_on_erp(ledger, journal, period=f"{add_months(JAN_1, month - 1):%Y-%m}",
                     by="controller", today=TODAY)


def _ledger_revenue(ledger: Ledger) -> dict[str, int]:
    return {"4100": ledger.account_balance(SERVICES_REVENUE, "USD"),
            "4000": ledger.account_balance(SUBSCRIPTION_REVENUE, "USD"),
            "2100": -(ledger.account_balance(SERVICES_REVENUE, "USD")
                      + ledger.account_balance(SUBSCRIPTION_REVENUE, "USD"))}


def test_a_negative_catch_up_in_a_closed_month_reaches_the_erp_in_the_next(
        books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
        sessions: sessionmaker[Session]) -> None:
    ledger, journal = Ledger(sessions), _journal(books_rt)
    milestone_deal(ledger)
    _close(ledger, journal, 1, 4)
    found = classify_amendment(_milestones("30000", 1), _milestones("20000", 2), APRIL_1,
                               recognized={"L1": 1_200_000})
    assert found is not None and found.catch_up == {"L1": -400_000}
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 1
    assert _audit(sessions) == []

    done = close_on_erp(ledger, journal, period="2026-05", by="controller", today=TODAY)
    [posting] = done.postings
    assert (posting.amount_minor, posting.posted_on) == (600_000, date(2026, 5, 31))
    assert _erp_revenue(books_stack) == {"4100": 1_200_000 - 400_000, "4000": 5_000_000,
                                         "2100": -5_800_000}
    if books_stack.netsuite is not None:
        [entry] = ns_records(books_stack, "journalEntry", "closebot-rev-2026-05-USD")
        sides = sorted((str(ln["account"]["refName"]).split()[0], "debit" in ln)
                       for ln in entry["line"]["items"])
        assert sides == [("2100", True), ("4000", False), ("4100", True)]
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 11_200_000 - 5_800_000
    # A replayed re-plan and close move nothing.
    entries = _entries(books_stack)
    assert ledger.replan(opportunity_id="006DEAL", effective=APRIL_1,
                         remaining=found.remaining, catch_up=found.catch_up) == 0
    close_on_erp(ledger, journal, period="2026-05", by="controller", today=TODAY)
    assert _entries(books_stack) == entries

    ledger.mark_delivered(opportunity_id="006DEAL", product=IMPL, on=date(2026, 6, 30),
                          by="ops", today=date(2026, 6, 30))
    _invoice(ledger, "in_m2", "006DEAL:v1", date(2026, 6, 30), [InvoiceLineIn(IMPL, 800_000)])
    _close(ledger, journal, 6, 12)
    assert _erp_revenue(books_stack) == {"4100": 2_000_000, "4000": 10_000_000,
                                         "2100": -12_000_000}
    assert _erp_revenue(books_stack) == _ledger_revenue(ledger)
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert _audit(sessions) == []


def test_a_dropped_obligation_releases_nothing_more_to_the_erp(
        books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
        sessions: sessionmaker[Session]) -> None:
    ledger, journal = Ledger(sessions), _journal(books_rt)
    delivery = date(2026, 6, 15)
    _deal(ledger, SalesOrderLineIn("L1", IMPL, 2_000_000, False, delivery, delivery,
                                   "point_in_time"))
    _invoice(ledger, "in_1", "006DEAL:v1", JAN_1, [
        InvoiceLineIn(IMPL, 2_000_000), InvoiceLineIn(SUB, 10_000_000, True, JAN_1,
                                                      date(2026, 11, 1))])
    _close(ledger, journal, 1, 2)
    found = classify_amendment(_acme("100000", 1), _subscription_only(), MARCH_17,
                               on_delivery=True)
    assert found is not None and found.remaining == {"L1": 0, "L2": 10_000_000}
    assert ledger.replan(opportunity_id="006DEAL", effective=MARCH_17,
                         remaining=found.remaining, catch_up=found.catch_up) == 2
    _close(ledger, journal, 3, 12)
    assert _erp_revenue(books_stack) == {"4000": 12_000_000, "2100": -12_000_000}
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 0
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 12_000_000
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert _audit(sessions) == []


def test_a_dropped_line_stripe_credits_releases_nothing_more_to_the_erp(
        books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
        sessions: sessionmaker[Session]) -> None:
    ledger, journal = Ledger(sessions), _journal(books_rt)
    support_deal(ledger)
    _close(ledger, journal, 1, 2)
    drop_support(ledger)
    _close(ledger, journal, 3, 3)
    assert _posted(books_stack) == {"4000": 2_400_000 + 1_011_678, "2100": -3_411_678}
    _close(ledger, journal, 4, 12)
    assert _posted(books_stack) == {"4000": 10_493_421, "2100": -10_493_421}
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 10_493_421
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert _audit(sessions) == []


def _posted(stack: SandboxStack) -> dict[str, int]:
    """The revenue journal's accounts that moved."""
    return {account: amount for account, amount in _erp_revenue(stack).items() if amount}
