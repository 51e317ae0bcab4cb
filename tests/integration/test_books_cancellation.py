"""Worked example: an early cancellation at month 6 of a 12-month annual contract.

Globex signed 12 months of the platform for $120,000, billed annually: one $120,000 invoice on
day 0, unpaid. In month 5 it cancels; sales sets the opportunity's Cancellation Date to the
last day of month 6. The Stripe subscription ends at the end of that day and nothing bills after
it (Stripe prorates nothing: the invoice already billed the year). When the cancellation takes
effect, the six months billed and not served are credited: a $60,000 Stripe credit note on the
invoice and an ERP credit memo. The ledger takes it from deferred revenue (it was never
earned), not revenue, and the schedule stops: months 7-12 recognize nothing.

                                  Dr          Cr
    invoice (day 0)      AR     120,000
                         Deferred           120,000
    months 1-6           Deferred 60,000    (6 x 10,000)
                         Subscription rev    60,000
    credit memo (m. 6)   Deferred 60,000
                         AR                  60,000
    months 7-12          nothing

After month 12: AR 60,000 (= Stripe's amount remaining = Salesforce's outstanding balance),
deferred revenue 0, subscription revenue 60,000, credits & allowances 0; the audit is clean.
NetSuite and Sage Intacct book the same: their sales order keeps the $120,000 (the
cancellation's change order changes no line), the $60,000 credit memo (Sage: AR adjustment)
takes its lines from deferred revenue, so revenue booked is 60,000 and contra revenue 0.
"""

from __future__ import annotations

from datetime import timedelta
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
    dollars,
    ledger_books,
    midnight,
    on_ledger,
    recognize,
    seed,
    today,
)
from tests.integration.erp_books import erp_books, erp_credits, erp_orders


def test_early_cancellation_at_month_6_credits_the_unused_half_from_deferred_revenue(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp = seed(stack, DealSpec(
        "Globex - Platform", "Globex", "hank@globex-sales.example", "USD", "Annual", "Net 30",
        12, [LineSpec("Platform Subscription", 1, Decimal("120000"), "Recurring")], start))
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"

    advance_months(stack, start, 5)
    ends = add_months(start, 6)
    stack.salesforce.update("Opportunity", opp,
                            {"Cancellation_Date__c": (ends - timedelta(days=1)).isoformat()})
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (sub,) = stack.stripe.objects("subscription")
    assert sub["cancel_at"] == midnight(ends)
    assert stack.stripe.objects("credit_note") == [], "credited when it takes effect"
    entered = run_audit(rt, require_alerts=False)
    assert not entered.failing, entered.problems()

    advance_months(stack, start, 6)
    sync_once(rt)  # the worker, running when the cancellation takes effect
    advance_months(stack, start, 13)
    sync_once(rt)
    recognize(rt)

    (invoice,) = stack.stripe.objects("invoice")
    (note,) = stack.stripe.objects("credit_note")
    assert (invoice["total"], note["amount"], invoice["amount_remaining"]) == (
        120 * K, 60 * K, 60 * K)
    (sub,) = stack.stripe.objects("subscription")
    assert (sub["status"], sub["canceled_at"]) == ("canceled", midnight(ends))
    assert dollars(stack.salesforce.get("Opportunity", opp)["Outstanding_Balance__c"]) == 60 * K
    report = run_audit(rt, require_alerts=False)
    assert not report.failing, report.problems()
    assert erp_books(stack, sessions) == {"AR": 60 * K, "Revenue": 60 * K, "Contra": 0}
    if not on_ledger(stack):
        # The ERP's order stays at the contract's $120,000; its credit memo holds the $60,000.
        assert (erp_orders(stack), erp_credits(stack)) == ([120 * K], [60 * K])
        return
    assert ledger_books(sessions) == {
        "AR": 60 * K, "Deferred revenue": 0, "Sales tax payable": 0,
        "Subscription revenue": 60 * K, "Services revenue": 0, "Bad debt expense": 0}
