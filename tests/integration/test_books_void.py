"""Worked examples: an invoice voided or written off in Stripe, booked right in the ERP.

Each runs the seed deal end to end (Salesforce → Stripe → the ERP, on the embedded ledger, on
NetSuite and on Sage Intacct), acts in Stripe as finance would, and ties the books out to the
cent in every system.
The seed deal: $120,000 = $20,000 implementation (recognized on delivery, the contract's first
day) + $100,000 platform subscription ($10,000 a month for 10 months), one annual invoice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
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
    ia_lines,
    ia_records,
    journal_entries,
    ledger_books,
    mirrored,
    ns_lines,
    ns_records,
    on_ledger,
    recognize,
    replay_post,
    seed_acme,
    stripe_client,
    today,
)

INVOICE, ADJUSTMENT = "accounts-receivable/invoice", "accounts-receivable/adjustment"
PAYMENT = "accounts-receivable/payment"
ZERO = {"AR": 0, "Deferred revenue": 0, "Sales tax payable": 0, "Subscription revenue": 0,
        "Services revenue": 0, "Bad debt expense": 0}


def _billed(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]) -> tuple[str, str]:
    """The seed deal billed and posted today; returns (opportunity, Stripe invoice)."""
    opp = seed_acme(stack, today(stack))
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (invoice,) = mirrored(sessions, opp)
    assert invoice.total_minor == 120 * K
    return opp, invoice.billing_id


def _audit_after_void(rt: Runtime) -> None:
    """The books tie out after a void; what stays is the deal booked with nothing billed
    against it (contract value, documented in docs/operations.md: invoices net of voids), for a
    person to settle by issuing the invoice again or changing the booking."""
    report = run_audit(rt, require_alerts=False)
    assert [(v.kind, v.difference_minor) for v in report.failing] == [
        ("contract_value", 120 * K)], report.problems()


def _salesforce(stack: SandboxStack, opp: str) -> tuple[str, int, str]:
    record = stack.salesforce.get("Opportunity", opp)
    return (record["Invoice_Status__c"], dollars(record["Outstanding_Balance__c"]),
            record["Sync_Status__c"])


def test_void_before_any_revenue(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Voided the day it was issued, before anything was recognized.

                               Dr         Cr
        invoice   AR         120,000
                  Deferred               120,000
        void      Deferred   120,000
                  AR                     120,000

    After: AR 0, deferred revenue 0, revenue 0, and no schedule row left to recognize (the
    implementation due today included). Stripe: void. Salesforce: Void, outstanding 0. The
    audit ties each system out; the one variance is the $120,000 booked and no longer billed.
    NetSuite: the invoice transformed into a credit memo of 120,000 applied to it in full.
    Sage Intacct: an AR adjustment of -120,000 to deferred revenue (2100), applied to the
    invoice in full by a credit application; the invoice owes 0.
    """
    stack, rt = books_stack, books_rt
    opp, invoice = _billed(stack, rt, sessions)
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    recognize(rt)

    assert stack.stripe.objects("invoice")[0]["status"] == "void"
    assert _salesforce(stack, opp) == ("Void", 0, "Synced")
    _audit_after_void(rt)
    if on_ledger(stack):
        assert ledger_books(sessions) == ZERO
        entries = journal_entries(sessions)
        replay_post(rt, opp)  # the same void again: nothing new
        advance_months(stack, today(stack), 12)
        assert recognize(rt) == 0
        assert journal_entries(sessions) == entries
        assert ledger_books(sessions) == ZERO
        return
    if stack.intacct is not None:
        (ia_invoice,) = ia_records(stack, INVOICE, invoice)
        (adjustment,) = ia_records(stack, ADJUSTMENT, f"{invoice}:void")
        assert ia_lines(adjustment) == [("2100", -120 * K)]
        assert dollars(ia_invoice["totalTxnAmountDue"]) == 0
        (applied,) = ia_records(stack, PAYMENT, f"{invoice}:void:apply")
        assert applied["details"] == [{"arInvoice": {"key": ia_invoice["key"]},
                                       "inlineTxn": {"key": adjustment["key"]},
                                       "txnAmount": "120000.00"}]
        replay_post(rt, opp)
        assert len(ia_records(stack, ADJUSTMENT)) == len(ia_records(stack, PAYMENT)) == 1
        return
    (ns_invoice,) = ns_records(stack, "invoice", invoice)
    assert dollars(ns_invoice["amountRemaining"]) == 0
    (memo,) = ns_records(stack, "creditMemo", f"{invoice}:void")
    assert dollars(memo["total"]) == 120 * K
    assert [(a["doc"]["id"], dollars(a["amount"])) for a in memo["apply"]["items"]] == [
        (ns_invoice["id"], 120 * K)]
    assert sorted(ns_lines(memo)) == sorted(ns_lines(ns_invoice))
    replay_post(rt, opp)
    assert len(ns_records(stack, "creditMemo")) == 1


def test_void_after_three_months_recognized(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Voided three months in: the implementation ($20,000) and three subscription months
    ($30,000) were recognized. The void reverses the invoice and, in the open period, the
    revenue already recognized on it; the schedule stops.

                                        Dr         Cr
        invoice        AR             120,000
                       Deferred                   120,000
        months 1-3     Deferred        30,000
                       Subscription rev            30,000
        delivery       Deferred        20,000
                       Services rev                20,000
        void           Deferred        70,000
                       Subscription rev 30,000
                       Services rev    20,000
                       AR                         120,000

    After: AR 0, deferred revenue 0, subscription revenue 0, services revenue 0; months 4-10
    never recognized. Salesforce: Void, outstanding 0. The audit: only the $120,000 booked and
    no longer billed. NetSuite: a 120,000 credit memo
    transformed from the invoice and applied to it (NetSuite reverses its own revenue plan).
    Sage Intacct: a -120,000 adjustment to deferred revenue applied to the invoice (Sage's
    revenue recognition reverses what it released).
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp, invoice = _billed(stack, rt, sessions)
    advance_months(stack, start, 3)
    if on_ledger(stack):
        assert recognize(rt) == 4
        assert ledger_books(sessions) == {**ZERO, "AR": 120 * K, "Deferred revenue": 70 * K,
                                          "Subscription revenue": 30 * K,
                                          "Services revenue": 20 * K}
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    assert _salesforce(stack, opp) == ("Void", 0, "Synced")
    _audit_after_void(rt)
    if on_ledger(stack):
        assert ledger_books(sessions) == ZERO
        advance_months(stack, start, 12)
        assert recognize(rt) == 0
        assert ledger_books(sessions) == ZERO
        return
    if stack.intacct is not None:
        (ia_invoice,) = ia_records(stack, INVOICE, invoice)
        (adjustment,) = ia_records(stack, ADJUSTMENT, f"{invoice}:void")
        assert (dollars(ia_invoice["totalTxnAmountDue"]), ia_lines(adjustment)) == (
            0, [("2100", -120 * K)])
        return
    (ns_invoice,) = ns_records(stack, "invoice", invoice)
    (memo,) = ns_records(stack, "creditMemo", f"{invoice}:void")
    assert (dollars(ns_invoice["amountRemaining"]), dollars(memo["total"])) == (0, 120 * K)


def test_uncollectible_after_three_months(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Marked uncollectible three months in. What was earned stays revenue and the receivable
    for it is a bad debt (ASC 326); collection of the rest is no longer probable, so nothing
    more is recognized (ASC 606-10-25-7) and its unearned billing comes out of deferred revenue.

                                        Dr         Cr
        invoice        AR             120,000
                       Deferred                   120,000
        months 1-3 and delivery
                       Deferred        50,000
                       Subscription rev            30,000
                       Services rev                20,000
        write-off      Bad debt        50,000
                       Deferred        70,000
                       AR                         120,000

    After: AR 0, deferred revenue 0, subscription revenue 30,000, services revenue 20,000, bad
    debt expense 50,000; months 4-10 never recognized. Stripe keeps the invoice payable
    (uncollectible, 120,000 remaining). Salesforce: Uncollectible, outstanding 0 (written off).
    NetSuite: a credit memo applied in full: Bad debt 50,000 + Subscription 70,000.
    Sage Intacct: an adjustment applied in full: deferred revenue (2100) -70,000 and bad debt
    expense (6200) -50,000.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp, invoice = _billed(stack, rt, sessions)
    advance_months(stack, start, 3)
    recognize(rt)
    stripe_client(stack).v1.invoices.mark_uncollectible(invoice)
    sync_once(rt)

    (stripe_invoice,) = stack.stripe.objects("invoice")
    assert (stripe_invoice["status"], stripe_invoice["amount_remaining"]) == (
        "uncollectible", 120 * K)
    assert _salesforce(stack, opp) == ("Uncollectible", 0, "Synced")
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()
    if on_ledger(stack):
        after = {**ZERO, "Subscription revenue": 30 * K, "Services revenue": 20 * K,
                 "Bad debt expense": 50 * K}
        assert ledger_books(sessions) == after
        entries = journal_entries(sessions)
        replay_post(rt, opp)
        advance_months(stack, start, 12)
        assert recognize(rt) == 0
        assert journal_entries(sessions) == entries
        assert ledger_books(sessions) == after
        return
    if stack.intacct is not None:
        (ia_invoice,) = ia_records(stack, INVOICE, invoice)
        (adjustment,) = ia_records(stack, ADJUSTMENT, f"{invoice}:uncollectible")
        assert dollars(ia_invoice["totalTxnAmountDue"]) == 0
        assert ia_lines(adjustment) == [("2100", -70 * K), ("6200", -50 * K)]
        replay_post(rt, opp)
        assert len(ia_records(stack, ADJUSTMENT)) == 1
        return
    (ns_invoice,) = ns_records(stack, "invoice", invoice)
    (memo,) = ns_records(stack, "creditMemo", f"{invoice}:uncollectible")
    assert dollars(ns_invoice["amountRemaining"]) == 0
    assert sorted(ns_lines(memo)) == [("Bad debt", 50 * K), ("Subscription", 70 * K)]
    assert [dollars(a["amount"]) for a in memo["apply"]["items"]] == [120 * K]
    replay_post(rt, opp)
    assert len(ns_records(stack, "creditMemo")) == 1
