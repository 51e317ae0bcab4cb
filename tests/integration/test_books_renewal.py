"""Worked example: a renewal with a 7% uplift continues the same Stripe subscription.

Initech signs a 12-month platform subscription for $120,000, billed annually, starting today.
In month 11 it renews for the next 12 months at $128,400 (7% more), a new opportunity with
Type = Renewal that names the first in Renewal Of. The renewal starts the day after the first
term ends. Stripe keeps one customer and one subscription: a schedule phase for the renewal's
prices begins exactly where the first term ends (no gap, no overlap) and the subscription ends
with the renewal. The ERP gets a sales order per deal, each its own revenue schedule.

                                     Dr          Cr
    invoice 1 (day 0)     AR       120,000
                          Deferred             120,000
    months 1-12           Deferred 120,000     (12 x 10,000)
                          Subscription rev     120,000
    invoice 2 (month 12)  AR       128,400
                          Deferred             128,400
    months 13-24          Deferred 128,400     (12 x 10,700)
                          Subscription rev     128,400

After month 24: AR 248,400 (nothing paid), deferred revenue 0, subscription revenue 248,400;
Stripe: 2 invoices on 1 subscription, canceled at the end of the renewal's last day;
Salesforce: both deals synced with the same subscription ID; the audit is clean.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage import links
from storage.db import transaction
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    deal_status,
    ledger_books,
    midnight,
    on_ledger,
    recognize,
    seed,
    today,
)
from tests.integration.erp_books import erp_books, erp_invoices, erp_name, erp_orders

FIRST = 120 * K
RENEWAL = 128_400 * 100  # $120,000 x 1.07


def _platform(name: str, price: Decimal, start: date, **extra: str) -> DealSpec:
    return DealSpec(name, "Initech", "bill@initech-sales.example", "USD", "Annual", "Net 30", 12,
                    [LineSpec("Platform Subscription", 1, price, "Recurring")], start,
                    extra=dict(extra))


def _sales_order(sessions: sessionmaker[Session], opp: str, erp: str) -> str | None:
    with transaction(sessions) as s:
        return links.find(s, links.contract_scope(opp, 1), erp, "sales_order")


@pytest.mark.parametrize("named_by", ["Renewal Of", "Type only"])
def test_a_renewal_with_a_7_percent_uplift_continues_the_subscription(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    named_by: str,
) -> None:
    """Salesforce names the renewed deal in Renewal Of, or only says Type = Renewal: then it is
    the same account's deal that ends the day before."""
    stack, rt = books_stack, books_rt
    start = today(stack)
    renewal_start = add_months(start, 12)
    renewal_end = add_months(start, 24)
    first = seed(stack, _platform("Initech - Platform", Decimal("120000"), start))
    sync_once(rt)
    assert deal_status(sessions, first) == "synced"

    advance_months(stack, start, 11)
    named = {"Renewal_Of__c": first} if named_by == "Renewal Of" else {}
    renewal = seed(stack, _platform("Initech - Platform renewal", Decimal("128400"),
                                    renewal_start, Type="Renewal", **named))
    account = stack.salesforce.get("Opportunity", first)["AccountId"]
    stack.salesforce.update("Opportunity", renewal, {"AccountId": account})
    sync_once(rt)
    assert deal_status(sessions, renewal) == "synced"

    (sub,) = stack.stripe.objects("subscription")
    assert sub["cancel_at"] == midnight(renewal_end), "the subscription ends with the renewal"
    (schedule,) = stack.stripe.objects("subscription_schedule")
    assert [(p["start_date"], p["end_date"]) for p in schedule["phases"]] == [
        (midnight(start), midnight(renewal_start)),
        (midnight(renewal_start), midnight(renewal_end))]
    # Each deal's phases are its own, also before the renewal's first invoice.
    signed = run_audit(rt, require_alerts=False)
    assert not signed.failing, signed.problems()
    for opp in (first, renewal):
        record = stack.salesforce.get("Opportunity", opp)
        assert record["Stripe_Subscription_Id__c"] == sub["id"]

    advance_months(stack, start, 25)
    sync_once(rt)
    recognize(rt)

    invoices = sorted(stack.stripe.objects("invoice"), key=lambda i: i["created"])
    assert [(i["total"], i["lines"]["data"][0]["period"]["start"],
             i["lines"]["data"][0]["period"]["end"]) for i in invoices] == [
        (FIRST, midnight(start), midnight(renewal_start)),
        (RENEWAL, midnight(renewal_start), midnight(renewal_end))]
    assert [i["parent"]["subscription_details"]["metadata"]["sf_opportunity_id"]
            for i in invoices] == [first, renewal]
    (sub,) = stack.stripe.objects("subscription")
    assert (sub["status"], sub["canceled_at"]) == ("canceled", midnight(renewal_end))
    assert len(stack.stripe.objects("customer")) == 1
    assert deal_status(sessions, renewal) == "synced"
    report = run_audit(rt, require_alerts=False)
    assert not report.failing, report.problems()

    erp = erp_name(stack)
    orders = {_sales_order(sessions, first, erp), _sales_order(sessions, renewal, erp)}
    assert None not in orders and len(orders) == 2, "a sales order per deal"
    assert erp_books(stack, sessions) == {
        "AR": FIRST + RENEWAL, "Revenue": FIRST + RENEWAL, "Contra": 0}
    # Each deal books its own term: the renewal's revenue is never the first deal's.
    assert [erp_books(stack, sessions, opp) for opp in (first, renewal)] == [
        {"AR": FIRST, "Revenue": FIRST, "Contra": 0},
        {"AR": RENEWAL, "Revenue": RENEWAL, "Contra": 0}]
    if not on_ledger(stack):
        assert erp_invoices(stack) == erp_orders(stack) == [FIRST, RENEWAL]
        return
    assert ledger_books(sessions) == {
        "AR": FIRST + RENEWAL, "Deferred revenue": 0, "Sales tax payable": 0,
        "Subscription revenue": FIRST + RENEWAL, "Services revenue": 0, "Bad debt expense": 0}


def test_a_renewal_that_leaves_a_gap_is_an_exception_not_a_second_subscription(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """A renewal starting a month after the renewed term ends would leave a month unbilled: it
    waits for a person, and Stripe is left as it was."""
    stack, rt = books_stack, books_rt
    start = today(stack)
    first = seed(stack, _platform("Initech - Platform", Decimal("120000"), start))
    sync_once(rt)
    late = add_months(start, 13)
    renewal = seed(stack, _platform("Initech - Platform renewal", Decimal("128400"), late,
                                    Renewal_Of__c=first))
    sync_once(rt)

    assert deal_status(sessions, renewal) == "exception"
    assert stack.stripe.objects("subscription_schedule") == [], "Stripe is left as it was"
    (sub,) = stack.stripe.objects("subscription")
    assert sub["cancel_at"] == midnight(add_months(start, 12))
    message = stack.salesforce.get("Opportunity", renewal)["Sync_Error__c"]
    assert "renewal starts " + late.isoformat() in message
    assert "Renewal Of" in message
