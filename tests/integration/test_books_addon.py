"""Worked example: an add-on with its own end date is its own Stripe subscription.

Acme signs a 12-month platform subscription for $120,000, billed annually, from today. In month
3 it adds 5 months of Analytics for $25,000, billed quarterly, from month 4 to the end of month
8: not co-termed with the platform. Stripe requires every item of a subscription to share one
billing interval and ends a subscription at one date, so the add-on is a second subscription for
the same customer, with its own dates; the platform's is untouched. Five months billed quarterly
is one whole quarter at 3/5 of the price and a 2-month last period at 2/5, nothing after.

                                      Dr          Cr
    platform invoice (day 0)  AR    120,000
                              Deferred          120,000
    add-on invoice (month 4)  AR     15,000
                              Deferred           15,000
    add-on invoice (month 7)  AR     10,000
                              Deferred           10,000
    platform months 1-12      Deferred 120,000  (12 x 10,000)
    add-on months 4-8         Deferred  25,000  (5 x 5,000)
                              Subscription rev  145,000

After month 12: AR 145,000 (nothing paid), deferred revenue 0, subscription revenue 145,000;
Stripe: one customer, two subscriptions, each canceled at the end of its own last day.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
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
from tests.integration.erp_books import erp_books, erp_invoices


def test_an_add_on_with_its_own_end_date_bills_only_its_own_months(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start = today(stack)
    platform = seed(stack, DealSpec(
        "Acme - Platform", "Acme", "jane@acme-sales.example", "USD", "Annual", "Net 30", 12,
        [LineSpec("Platform Subscription", 1, Decimal("120000"), "Recurring")], start))
    sync_once(rt)
    advance_months(stack, start, 3)
    addon_start, addon_end = add_months(start, 4), add_months(start, 9)
    addon = seed(stack, DealSpec(
        "Acme - Analytics add-on", "Acme", "jane@acme-sales.example", "USD", "Quarterly",
        "Net 30", 5, [LineSpec("Analytics Add-on", 1, Decimal("25000"), "Recurring")],
        addon_start, extra={"Type": "Add-On"}))
    account = stack.salesforce.get("Opportunity", platform)["AccountId"]
    stack.salesforce.update("Opportunity", addon, {"AccountId": account})
    sync_once(rt)
    assert deal_status(sessions, addon) == "synced"

    advance_months(stack, start, 13)
    sync_once(rt)
    recognize(rt)

    subs = {s["metadata"]["sf_opportunity_id"]: s for s in stack.stripe.objects("subscription")}
    assert {opp: (s["status"], s["canceled_at"]) for opp, s in subs.items()} == {
        platform: ("canceled", midnight(add_months(start, 12))),
        addon: ("canceled", midnight(addon_end))}
    assert len(stack.stripe.objects("customer")) == 1
    billed = sorted(
        (i["total"], i["lines"]["data"][0]["period"]["start"],
         i["lines"]["data"][0]["period"]["end"])
        for i in stack.stripe.objects("invoice")
        if i["parent"]["subscription_details"]["subscription"] == subs[addon]["id"]
        and i["total"])
    assert billed == [
        (10 * K, midnight(add_months(start, 7)), midnight(addon_end)),
        (15 * K, midnight(addon_start), midnight(add_months(start, 7)))]
    report = run_audit(rt, require_alerts=False)
    assert not report.failing, report.problems()
    assert erp_books(stack, sessions) == {"AR": 145 * K, "Revenue": 145 * K, "Contra": 0}
    assert [erp_books(stack, sessions, opp) for opp in (platform, addon)] == [
        {"AR": 120 * K, "Revenue": 120 * K, "Contra": 0},
        {"AR": 25 * K, "Revenue": 25 * K, "Contra": 0}]
    if not on_ledger(stack):
        assert [t for t in erp_invoices(stack) or [] if t] == [10 * K, 15 * K, 120 * K]
        return
    assert ledger_books(sessions) == {
        "AR": 145 * K, "Deferred revenue": 0, "Sales tax payable": 0,
        "Subscription revenue": 145 * K, "Services revenue": 0, "Bad debt expense": 0}
