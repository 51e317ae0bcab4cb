"""Worked examples: credits, voids and cancellations reach the revenue subledger, so month-end
close on NetSuite and Sage Intacct posts the revenue the ledger recognizes, to the cent.

On the ledger the credit memo shrinks its invoice's schedule rows and a void stops them. On
NetSuite and Sage Intacct closebot records each invoice, payment, credit memo and closure the
ERP accepts in its revenue subledger too, through the same ledger calls, so the same rows
shrink or stop; each close then posts what is left (`closebot-rev-<period>-USD`). Each month
is closed in turn, as a controller would, after the change.

Every deal starts on S, the 1st of a month (P1, P2, ... its months).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import make_revenue_journal
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from sync.ledger.close import RollForward
from sync.ledger.subledger_close import close_on_erp
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    deal_status,
    ledger_books,
    mirrored,
    on_ledger,
    replay_post,
    seed,
    seed_acme,
    stripe_client,
    today,
)
from tests.integration.test_books_credit import _approve_credit
from tests.integration.test_revenue_close_erps import _entries, _erp_revenue


def _first_of_next_month(stack: SandboxStack) -> date:
    now = today(stack)
    start = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    advance_months(stack, start, 0)
    return start


def _close_months(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session],
                  start: date, months: int) -> list[tuple[RollForward, ...]]:
    """P1 .. P`months` closed in turn, as `closebot close --period` does on each ERP; each
    month's deferred-revenue roll-forward (the ERP's Deferred Revenue on NetSuite and Sage)."""
    ledger = Ledger(sessions)
    journal = make_revenue_journal(rt.erp)
    rolled = []
    for n in range(months):
        period = f"{add_months(start, n):%Y-%m}"
        if journal is None:
            rolled.append(ledger.close_period(period=period, by="controller",
                                              today=today(stack)).roll_forward)
        else:
            rolled.append(close_on_erp(ledger, journal, period=period, by="controller",
                                       today=today(stack)).roll_forward)
    return rolled


def _revenue(stack: SandboxStack, sessions: sessionmaker[Session]) -> dict[str, int]:
    """Revenue recognized per account (and what left Deferred Revenue): the ledger's own
    accounts, or closebot's revenue journal entries in the ERP."""
    if on_ledger(stack):
        books = ledger_books(sessions)
        found = {"4000": books["Subscription revenue"], "4100": books["Services revenue"]}
        return {k: v for k, v in found.items() if v}
    return {k: v for k, v in _erp_revenue(stack).items() if k != "2100" and v}


def test_cancellation_at_month_6_closes_only_the_months_served(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Globex: 12 months of the platform, $120,000 billed annually on S, cancelled in P5
    with a Cancellation Date at the end of P6. At P6's end the six months not served are
    credited: a $60,000 credit note, taken from deferred revenue.

        schedule    12 x 10,000; the credit (end of P6) takes P7..P12: 6 x 10,000 -> 0
        closes      P1..P6 post 10,000 each (Dr 2100 / Cr 4000); P7..P12 post nothing
        revenue     60,000, the ledger's 60,000 = 120,000 - 60,000
        roll-fwd    P7: 60,000 + 0 - 60,000 (the credit) - 0 = 0, the ERP's Deferred Revenue 0
    Before the subledger followed credits, P7..P12 posted 60,000 more on NetSuite and Sage.
    """
    stack, rt = books_stack, books_rt
    start = _first_of_next_month(stack)
    opp = seed(stack, DealSpec(
        "Globex - Platform", "Globex", "hank@globex-sales.example", "USD", "Annual", "Net 30",
        12, [LineSpec("Platform Subscription", 1, Decimal("120000"), "Recurring")],
        start))
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    advance_months(stack, start, 4)
    ends = add_months(start, 6)
    stack.salesforce.update("Opportunity", opp,
                            {"Cancellation_Date__c": (ends - timedelta(days=1)).isoformat()})
    sync_once(rt)
    advance_months(stack, start, 6)
    sync_once(rt)  # the cancellation takes effect: the credit
    (note,) = stack.stripe.objects("credit_note")
    assert note["amount"] == 60 * K
    advance_months(stack, start, 12)
    sync_once(rt)
    rolled = _close_months(stack, rt, sessions, start, 12)

    # P7: opening 120,000 - 6 x 10,000; the credit (dated P7's first day) takes the rest.
    assert rolled[6] == (RollForward("USD", 60 * K, 0, 60 * K, 0, 0, 0),)

    assert _revenue(stack, sessions) == {"4000": 60 * K}
    if not on_ledger(stack):
        assert _erp_revenue(stack)["2100"] == -60 * K
        assert _entries(stack) == 6  # P1..P6; nothing left to post after
    else:
        assert ledger_books(sessions)["Deferred revenue"] == 0


def test_void_of_an_unpaid_invoice_leaves_no_revenue_to_close(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """The seed deal ($20,000 implementation on S + $100,000 subscription, 10 x 10,000),
    one $120,000 invoice on S, voided unpaid on day 10 of P1.

        schedule    implementation 20,000 and the ten subscription rows: all stopped
        closes      P1, P2: nothing to post (no journal entry in the ERP)
        revenue     0, as the ledger's
        roll-fwd    P1: 0 + 120,000 - 120,000 (the void) - 0 = 0, the ERP's Deferred Revenue 0
    Replaying the post step (the void again) changes nothing.
    """
    stack, rt = books_stack, books_rt
    start = _first_of_next_month(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (invoice,) = mirrored(sessions, opp)
    advance(stack, days=10)
    stripe_client(stack).v1.invoices.void_invoice(invoice.billing_id)
    sync_once(rt)
    replay_post(rt, opp)
    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)

    assert _revenue(stack, sessions) == {}
    assert rolled[0] == (RollForward("USD", 0, 120 * K, 120 * K, 0, 0, 0),)
    if not on_ledger(stack):
        assert _entries(stack) == 0


def test_credit_of_half_then_close(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """The seed deal, one $120,000 invoice on S; a $60,000 credit approved on day 10 of P1.

        credit      all from deferred: the subscription's 10 x 10,000 rows become 10 x 4,000
                    (the implementation was earned on S)
        close P1    Dr 2100 24,000 / Cr 4100 20,000, Cr 4000 4,000
        close P2    Dr 2100 4,000 / Cr 4000 4,000
        roll-fwd    P1: 0 + 120,000 - 60,000 - 24,000 = 36,000; P2: 36,000 - 4,000 = 32,000;
                    the ERP's Deferred Revenue the same
        revenue     28,000 (services 20,000, subscription 8,000), the ledger's to the cent;
                    over the term 20,000 + 40,000 = 60,000 = 120,000 - 60,000
    A replayed credit step posts nothing new, and closing again posts nothing.
    """
    stack, rt = books_stack, books_rt
    start = _first_of_next_month(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (invoice,) = mirrored(sessions, opp)
    advance(stack, days=10)
    _approve_credit(rt, opp, invoice.billing_id, 60 * K)
    replay_post(rt, opp)
    assert [n["amount"] for n in stack.stripe.objects("credit_note")] == [60 * K]
    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)

    assert _revenue(stack, sessions) == {"4100": 20 * K, "4000": 8 * K}
    assert rolled == [(RollForward("USD", 0, 120 * K, 60 * K, 24 * K, 36 * K, 36 * K),),
                      (RollForward("USD", 36 * K, 0, 0, 4 * K, 32 * K, 32 * K),)]
    if not on_ledger(stack):
        assert _erp_revenue(stack)["2100"] == -28 * K
        posted = _entries(stack)
        _close_months(stack, rt, sessions, start, 2)
        assert _entries(stack) == posted == 2

