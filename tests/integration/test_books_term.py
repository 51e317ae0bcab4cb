"""Worked examples: a term that is not a whole number of billing periods.

The Stripe subscription ends with the contract: its last (or only) period bills the service that
remains, not a whole period, and nothing bills after the contract's last day.

The seed deal: $120,000 = $20,000 implementation + $100,000 platform subscription over 10 months,
billed annually. Ten months is less than one annual period, so the only period is a 10-month
one: one invoice of $100,000 (+ the $20,000 fee) whose subscription line covers the contract's
dates, and the subscription is canceled at the end of the contract's last day.

                                  Dr         Cr
    invoice        AR           120,000
                   Deferred                 120,000
    delivery       Deferred      20,000
                   Services rev              20,000
    months 1-10    Deferred     100,000     (10 x 10,000)
                   Subscription rev         100,000

After the contract: AR 120,000 (unpaid), deferred 0, revenue 120,000, one Stripe invoice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture
    deal_status,
    dollars,
    ia_records,
    ledger_books,
    midnight,
    ns_records,
    on_ledger,
    recognize,
    seed,
    seed_acme,
    today,
)


def _contract_end(stack: SandboxStack, opp: str) -> date:
    value = stack.salesforce.get("Opportunity", opp)["Contract_End_Date__c"]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _lines(invoice: dict[str, Any]) -> list[tuple[int, int, int]]:
    """(amount, period start, period end) of each line, largest first."""
    return sorted(((ln["amount"], ln["period"]["start"], ln["period"]["end"])
                   for ln in invoice["lines"]["data"]), reverse=True)


def test_ten_month_term_billed_annually_is_one_invoice_for_the_term(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    end = midnight(_contract_end(stack, opp) + timedelta(days=1))  # end of the last day

    (sub,) = stack.stripe.objects("subscription")
    assert sub["cancel_at"] == end
    assert [(i["current_period_start"], i["current_period_end"])
            for i in sub["items"]["data"]] == [(midnight(start), end)]
    (invoice,) = stack.stripe.objects("invoice")
    assert invoice["total"] == 120 * K
    sub_line, fee_line = _lines(invoice)
    assert sub_line == (100 * K, midnight(start), end)
    assert fee_line[0] == 20 * K

    advance_months(stack, start, 14)  # well past the contract's end
    sync_once(rt)  # polls Stripe's events
    recognize(rt)

    assert len(stack.stripe.objects("invoice")) == 1, "nothing bills after the contract"
    assert stack.stripe.objects("credit_note") == []
    (sub,) = stack.stripe.objects("subscription")
    assert (sub["status"], sub["canceled_at"]) == ("canceled", end)
    if on_ledger(stack):
        assert ledger_books(sessions) == {
            "AR": 120 * K, "Deferred revenue": 0, "Sales tax payable": 0,
            "Subscription revenue": 100 * K, "Services revenue": 20 * K,
            "Bad debt expense": 0}


def test_fourteen_month_term_billed_annually_prorates_the_last_period(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """$140,000 over 14 months, billed annually: 12 months for $120,000, then the 2 months
    left for $20,000 (the term's price by whole months: 140,000 x 2 / 14), and nothing after.

                                  Dr         Cr
        invoice 1      AR       120,000
                       Deferred             120,000
        invoice 2      AR        20,000
                       Deferred              20,000
        months 1-14    Deferred 140,000     (14 x 10,000)
                       Subscription rev     140,000
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp = seed(stack, DealSpec(
        "Hooli - Platform 14 months", "Hooli", "gav@hooli-sales.example", "USD", "Annual",
        "Net 30", 14, [LineSpec("Platform Subscription", 1, Decimal("140000"), "Recurring")],
        start))
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    end = midnight(_contract_end(stack, opp) + timedelta(days=1))
    (sub,) = stack.stripe.objects("subscription")
    assert sub["cancel_at"] == end

    # The last 2 months are billed by the schedule's phase, as the audit reads it too.
    signed = run_audit(rt, require_alerts=False)
    assert not signed.failing, signed.problems()

    advance_months(stack, start, 18)
    sync_once(rt)
    recognize(rt)

    invoices = sorted(stack.stripe.objects("invoice"), key=lambda i: i["created"])
    renewal = midnight(start.replace(year=start.year + 1)) if not (
        start.month == 2 and start.day == 29) else midnight(date(start.year + 1, 3, 1))
    assert [_lines(i) for i in invoices] == [
        [(120 * K, midnight(start), renewal)], [(20 * K, renewal, end)]]
    (sub,) = stack.stripe.objects("subscription")
    assert (sub["status"], sub["canceled_at"]) == ("canceled", end)
    (schedule,) = stack.stripe.objects("subscription_schedule")
    assert [(p["start_date"], p["end_date"]) for p in schedule["phases"]] == [
        (midnight(start), renewal), (renewal, end)]
    assert schedule["status"] == "completed"
    report = run_audit(rt, require_alerts=False)
    assert not report.failing, report.problems()
    if stack.netsuite is not None:
        assert sorted(dollars(i["total"]) for i in ns_records(stack, "invoice")) == [
            20 * K, 120 * K]
        return
    if stack.intacct is not None:
        assert sorted(dollars(i["totalTxnAmount"]) for i in ia_records(
            stack, "accounts-receivable/invoice")) == [20 * K, 120 * K]
        return
    books = ledger_books(sessions)
    assert (books["AR"], books["Deferred revenue"], books["Subscription revenue"]) == (
        140 * K, 0, 140 * K)
