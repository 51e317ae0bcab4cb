"""Worked examples: a contract changed mid-term, billed and booked from its effective date.

The customer pays the new price from the day closebot first bills the new version: for the rest of
the current billing period the prorated difference, invoiced at once (Stripe's
`always_invoice`), and every later period in full. The ERP gets a change order for exactly that
delta, recognized ratably from the effective date to the end of the term. Policy and rounding:
docs/amendments.md. Each example runs end to end (Salesforce → Stripe → the ERP), on the
embedded ledger and on NetSuite, and ends with the money audit clean.

Stripe prorates by the second and its periods start at midnight UTC, so the share is by whole
days: `prorated(price, days left, days in the period)` below is that arithmetic, written here
independently of the product code; the dates depend on the day the test runs, the figures for a
term starting on 1 January 2026 are written out in each docstring.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture
    deal_status,
    dollars,
    ledger_books,
    mirrored,
    ns_records,
    recognize,
    seed_acme,
    today,
)


def prorated(price: int, left: int, whole: int) -> int:
    """Stripe's share of a period price for the time left, to the cent, half up."""
    return (2 * price * left + whole) // (2 * whole)


def _line(stack: SandboxStack, opp: str, product: str) -> str:
    """The opportunity's line selling `product`."""
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp
               and stack.salesforce.get("Product2", r["Product2Id"])["Name"] == product]
    return str(line)


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

    line = _line(stack, opp, "Platform Subscription")
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

    end = add_months(start, 11)
    advance(stack, days=(end - today(stack)).days)
    recognize(rt)
    sync_once(rt)
    if stack.netsuite is None:
        assert ledger_books(sessions) == {
            "AR": 120 * K + upsell, "Deferred revenue": 0, "Sales tax payable": 0,
            "Subscription revenue": 100 * K + upsell, "Services revenue": 20 * K,
            "Bad debt expense": 0}
    else:
        orders = ns_records(stack, "salesOrder")
        assert sorted(dollars(o["total"]) for o in orders) == sorted([120 * K, upsell])
        ns_invoices = ns_records(stack, "invoice")
        assert sorted(dollars(i["total"]) for i in ns_invoices) == sorted([120 * K, upsell])
        assert sum(dollars(i["amountRemaining"]) for i in ns_invoices) == 120 * K + upsell
    _audit_clean(rt)
