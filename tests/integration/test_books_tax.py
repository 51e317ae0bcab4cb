"""Worked examples: sales tax on an invoice, and an amount no obligation explains.

The seed deal starts in ten days: the $20,000 implementation fee is invoiced at signing, the
$100,000 annual subscription when its period starts. Before then finance puts New York City's
8.875% sales tax on the subscription in Stripe (Stripe owns tax), so the subscription invoice is
$100,000 + $8,875 tax. Run on the embedded ledger and on NetSuite.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture
    deal_status,
    dollars,
    ia_lines,
    ia_records,
    ledger_books,
    mirrored,
    ns_lines,
    ns_records,
    recognize,
    seed_acme,
    stripe_client,
    today,
)

TAX = 8_875 * 100  # $8,875.00: 8.875% of $100,000


def _signed(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
            ) -> tuple[str, str]:
    """The deal signed today for a start in ten days: (opportunity, Stripe subscription)."""
    start = today(stack) + timedelta(days=10)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (fee,) = mirrored(sessions, opp)
    assert fee.total_minor == 20 * K
    return opp, stack.salesforce.get("Opportunity", opp)["Stripe_Subscription_Id__c"]


def _period_starts(stack: SandboxStack) -> None:
    """Stripe opens the subscription period and finalizes its invoice an hour later."""
    advance(stack, days=10, seconds=3_700)


def test_sales_tax_goes_to_tax_payable_never_deferred_revenue(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """
                                          Dr          Cr
        fee invoice     AR              20,000
                        Deferred                    20,000
        subscription    AR             108,875
        invoice         Deferred                   100,000
                        Sales tax payable            8,875
        10 months and delivery
                        Deferred       120,000
                        Subscription rev           100,000
                        Services rev                20,000

    Before recognition: AR 128,875 (= Stripe's amount remaining on both invoices = Salesforce's
    outstanding balance), deferred revenue 120,000, sales tax payable 8,875. After the term:
    deferred revenue 0, revenue 120,000, and the 8,875 still owed to the tax authority.
    NetSuite: the subscription invoice has a Subscription line of 100,000 and a Sales tax line of
    8,875 (total 108,875, all of it open). Sage Intacct: lines to deferred revenue (2100)
    100,000 and sales tax payable (2300) 8,875, all of it due.
    """
    stack, rt = books_stack, books_rt
    start = today(stack) + timedelta(days=10)
    opp, subscription = _signed(stack, rt, sessions)
    client = stripe_client(stack)
    nyc = client.v1.tax_rates.create(params={
        "display_name": "Sales tax", "percentage": 8.875, "inclusive": False,
        "jurisdiction": "US - NY", "country": "US", "state": "NY", "tax_type": "sales_tax"})
    client.v1.subscriptions.update(subscription, params={"default_tax_rates": [nyc.id]})
    _period_starts(stack)
    sync_once(rt)

    fee, taxed = mirrored(sessions, opp)
    stripe_taxed = client.v1.invoices.retrieve(taxed.billing_id)
    assert (stripe_taxed.status, stripe_taxed.total, stripe_taxed.amount_remaining) == (
        "open", 100 * K + TAX, 100 * K + TAX)
    assert [t.amount for t in stripe_taxed.total_taxes] == [TAX]
    assert deal_status(sessions, opp) == "synced"
    record = stack.salesforce.get("Opportunity", opp)
    assert (record["Invoice_Number__c"], record["Invoice_Status__c"]) == (taxed.number, "Open")
    assert dollars(record["Outstanding_Balance__c"]) == 120 * K + TAX
    report = run_audit(rt, require_alerts=False)
    # The money ties out, and nothing bills past the term: the period is the contract's 10 months.
    assert not report.failing, report.problems()
    if stack.intacct is not None:
        (ia_invoice,) = ia_records(stack, "accounts-receivable/invoice", taxed.billing_id)
        assert ia_lines(ia_invoice) == [("2100", 100 * K), ("2300", TAX)]
        assert dollars(ia_invoice["totalTxnAmount"]) == dollars(
            ia_invoice["totalTxnAmountDue"]) == 100 * K + TAX
        (ia_fee,) = ia_records(stack, "accounts-receivable/invoice", fee.billing_id)
        assert ia_lines(ia_fee) == [("2100", 20 * K)]
        return
    if stack.netsuite is not None:
        (ns_invoice,) = ns_records(stack, "invoice", taxed.billing_id)
        assert ns_lines(ns_invoice) == [("Subscription", 100 * K), ("Sales tax", TAX)]
        assert dollars(ns_invoice["total"]) == dollars(ns_invoice["amountRemaining"]) == (
            100 * K + TAX)
        (ns_fee,) = ns_records(stack, "invoice", fee.billing_id)
        assert ns_lines(ns_fee) == [("One-time charges", 20 * K)]
        return
    zero_revenue = {"Subscription revenue": 0, "Services revenue": 0, "Bad debt expense": 0}
    assert ledger_books(sessions) == {
        "AR": 120 * K + TAX, "Deferred revenue": 120 * K, "Sales tax payable": TAX,
        **zero_revenue}
    advance_months(stack, start, 11)
    assert recognize(rt) == 11
    assert ledger_books(sessions) == {
        "AR": 120 * K + TAX, "Deferred revenue": 0, "Sales tax payable": TAX,
        "Subscription revenue": 100 * K, "Services revenue": 20 * K, "Bad debt expense": 0}


def test_an_amount_no_obligation_explains_is_an_exception(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Someone adds a $500 "Expedite fee" to the customer in Stripe; it lands on the subscription
    invoice ($100,500). No line of the Salesforce contract bills it, so the invoice is not posted
    (nothing parked in deferred revenue): the deal is an exception naming the invoice, the line
    and the amount. The books hold only the fee invoice: AR 20,000, deferred revenue 20,000.
    """
    stack, rt = books_stack, books_rt
    opp, _ = _signed(stack, rt, sessions)
    customer = stack.salesforce.get("Opportunity", opp)["Stripe_Customer_Id__c"]
    stripe_client(stack).v1.invoice_items.create(params={
        "customer": customer, "amount": 50_000, "currency": "usd",
        "description": "Expedite fee"})
    _period_starts(stack)
    sync_once(rt)

    fee, extra = mirrored(sessions, opp)
    assert extra.total_minor == 100 * K + 50_000
    assert deal_status(sessions, opp) == "exception"
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Sync_Status__c"] == "Failed"
    assert extra.number in record["Sync_Error__c"]
    assert "Expedite fee" in record["Sync_Error__c"] and "500.00" in record["Sync_Error__c"]
    if stack.netsuite is not None:
        assert [i["externalId"] for i in ns_records(stack, "invoice")] == [fee.billing_id]
        return
    if stack.intacct is not None:
        assert [i["referenceNumber"] for i in ia_records(
            stack, "accounts-receivable/invoice")] == [fee.billing_id]
        return
    books = ledger_books(sessions)
    assert (books["AR"], books["Deferred revenue"]) == (20 * K, 20 * K)
