"""A EUR contract posted in USD, end to end: Salesforce → Stripe (billed and paid in EUR) → the
embedded ledger with FUNCTIONAL_CURRENCY=USD and the ECB's rates loaded.

S is the sandbox's today. Rates (USD per EUR): S 1.0850, S+10 1.1000.
The deal: EUR 12,000.00 platform subscription for a year from S, billed annually up front.
Worked by hand (USD):
- Invoice on S at 1.0850: Dr AR 13,020.00 / Cr Deferred Revenue 13,020.00 (EUR 12,000.00).
- Paid by card on S+10 at 1.1000: Dr Stripe Clearing 13,200.00; Cr AR 13,020.00 (the invoice's
  rate); Cr Realized FX Gain/Loss 180.00.
- Whatever has been released meanwhile leaves Deferred Revenue at the invoice's rate, so
  Deferred + revenue stays 13,020.00 Cr.
Functional trial balance: Clearing 13,200.00 - (Deferred + revenue) 13,020.00 - FX 180.00 = 0;
AR 0. In EUR: Clearing 12,000.00, AR 0. Stripe holds EUR 12,000.00 paid on the invoice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice, SyncException
from sync.connectors.intacct import ADJUSTMENT as IA_ADJUSTMENT
from sync.connectors.intacct import INVOICE as IA_INVOICE
from sync.connectors.intacct import PAYMENT as IA_PAYMENT
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from sync.ledger.accounts import (
    DEFERRED_REVENUE,
    REALIZED_FX,
    RECEIVABLE,
    STRIPE_CLEARING,
    SUBSCRIPTION_REVENUE,
)
from sync.ledger.fx_rates import parse, store
from tests.integration.books import (
    advance,
    clocked,
    mirrored,
    ns_records,
    replay_post,
    seed,
    stripe_client,
    today,
)
from tests.integration.cash import cash, pay, refund


def test_eur_contract_posted_in_usd_with_an_fx_gain_on_payment(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    with SandboxStack(erp="ledger", slack=False) as stack:
        rt, opp, start = _klein(stack, db_url, sessions)

        # No rates yet: the invoice can't be posted in USD. The deal is held with a reason
        # naming the pair and the day, and nothing of the invoice is in the books.
        sync_once(rt)
        ledger = Ledger(sessions, functional_currency="USD")
        reasons = _held_without_a_rate(sessions, opp, start)
        assert any("closebot fx import" in r for r in reasons), reasons
        assert ledger.trial_balance("EUR") == {}
        assert ledger.functional_trial_balance() == {}

        invoice = _with_rates(rt, opp, start)
        assert (invoice.total_minor, invoice.currency.upper()) == (1_200_000, "EUR")
        booked = ledger.functional_trial_balance()
        assert booked[RECEIVABLE] == 1_302_000
        assert booked.get(DEFERRED_REVENUE, 0) + booked.get(SUBSCRIPTION_REVENUE, 0) == -1_302_000

        advance(stack, days=10)
        pay(stack, invoice.billing_id)
        sync_once(rt)
        paid = stripe_client(stack).v1.invoices.retrieve(invoice.billing_id)
        assert (paid["status"], paid["amount_paid"], paid["currency"]) == ("paid", 1_200_000,
                                                                          "eur")
        trial = ledger.functional_trial_balance()
        assert trial.get(RECEIVABLE, 0) == 0
        assert trial[STRIPE_CLEARING] == 1_320_000
        assert trial[REALIZED_FX] == -18_000  # a gain: a credit
        assert trial.get(DEFERRED_REVENUE, 0) + trial.get(SUBSCRIPTION_REVENUE, 0) == -1_302_000
        assert sum(trial.values()) == 0
        eur = ledger.trial_balance("EUR")
        assert (eur.get(RECEIVABLE, 0), eur[STRIPE_CLEARING]) == (0, 1_200_000)

        # Replayed: nothing new in either currency.
        replay_post(rt, opp)
        assert ledger.functional_trial_balance() == trial


def test_on_netsuite_each_invoice_and_payment_carries_closebots_rate(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    """The same deal on NetSuite: NetSuite converts and books the realized gain itself, at the
    `exchangeRate` closebot gives each record from its table — 1.0850 on the invoice (USD
    13,020.00 of AR), 1.1000 on the payment (USD 13,200.00 received: a 180.00 gain in
    NetSuite's books). Without a rate the invoice is held as on the ledger. A refund's credit
    memo carries the invoice's rate."""
    with SandboxStack(erp="netsuite", slack=False) as stack:
        rt, opp, start = _klein(stack, db_url, sessions)
        sync_once(rt)
        _held_without_a_rate(sessions, opp, start)
        assert ns_records(stack, "invoice") == []

        invoice = _with_rates(rt, opp, start)
        (ns_invoice,) = ns_records(stack, "invoice", invoice.billing_id)
        assert Decimal(str(ns_invoice["exchangeRate"])) == Decimal("1.0850")
        assert Decimal(str(ns_invoice["total"])) == Decimal("12000")

        advance(stack, days=10)
        charge = pay(stack, invoice.billing_id)
        sync_once(rt)
        (ns_payment,) = ns_records(stack, "customerPayment")
        assert Decimal(str(ns_payment["exchangeRate"])) == Decimal("1.1000")
        assert Decimal(str(ns_payment["payment"])) == Decimal("12000")
        (ns_invoice,) = ns_records(stack, "invoice", invoice.billing_id)
        assert Decimal(str(ns_invoice["amountRemaining"])) == 0

        # A refund of EUR 1,000.00 on S+12: its credit memo takes back what the invoice
        # booked, at the invoice's 1.0850 (USD 1,085.00), not the refund day's rate.
        advance(stack, days=2)
        refund(stack, charge, 100_000)
        sync_once(rt)
        advance(stack, days=4)  # paid out: the cash run books the payout's transactions
        assert cash(rt).problems == []
        (memo,) = [m for m in ns_records(stack, "creditMemo")
                   if m["externalId"].startswith("refund:")]
        assert Decimal(str(memo["exchangeRate"])) == Decimal("1.0850")
        assert Decimal(str(memo["total"])) == Decimal("1000")


def test_on_intacct_each_invoice_and_payment_carries_closebots_rate(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    """The same deal on Sage Intacct: each AR invoice and payment names its transaction
    currency, the entity's base currency and closebot's rate for its day in its `currency`
    block (`exchangeRate`: `date`, `rate`) — 1.0850 on the invoice (USD 13,020.00 of AR),
    1.1000 on the payment (USD 13,200.00 received); a credit's adjustment at the invoice's.
    Without a rate the invoice is held."""
    with SandboxStack(erp="intacct", slack=False) as stack:
        assert stack.intacct is not None
        rt, opp, start = _klein(stack, db_url, sessions)
        sync_once(rt)
        _held_without_a_rate(sessions, opp, start)
        assert stack.intacct.records(IA_INVOICE) == []

        invoice = _with_rates(rt, opp, start)
        (ia_invoice,) = stack.intacct.records(IA_INVOICE)
        assert ia_invoice["referenceNumber"] == invoice.billing_id
        block = ia_invoice["currency"]
        assert (block["txnCurrency"], block["baseCurrency"]) == ("EUR", "USD")
        assert block["exchangeRate"]["date"] == start.isoformat()
        assert Decimal(block["exchangeRate"]["rate"]) == Decimal("1.0850")
        assert ia_invoice["totalTxnAmount"] == "12000.00"

        advance(stack, days=10)
        pay(stack, invoice.billing_id)
        sync_once(rt)
        (ia_payment,) = stack.intacct.records(IA_PAYMENT)
        assert Decimal(ia_payment["currency"]["exchangeRate"]["rate"]) == Decimal("1.1000")
        assert ia_payment["currency"]["exchangeRate"]["date"] == (
            start + timedelta(days=10)).isoformat()
        assert ia_payment["totalTxnAmount"] == "12000.00"
        (ia_invoice,) = stack.intacct.records(IA_INVOICE)
        assert ia_invoice["totalTxnAmountDue"] == "0.00"
        # A credit note of EUR 1,000.00 on S+10: the adjustment takes back what the invoice
        # booked, at the invoice's rate and day (1.0850 on S), not the credit day's 1.1000.
        credit = rt.billing.credit_invoice(invoice.billing_id, amount_minor=100_000,
                                           reason="late onboarding", key="closebot:credit:fx-1")
        rt.erp.post_credit_memo(credit, invoice_id=ia_invoice["key"])
        (adjustment,) = stack.intacct.records(IA_ADJUSTMENT)
        assert adjustment["totalTxnAmount"] == "-1000.00"
        assert adjustment["currency"]["exchangeRate"]["date"] == start.isoformat()
        assert Decimal(adjustment["currency"]["exchangeRate"]["rate"]) == Decimal("1.0850")
        # Replayed: nothing new.
        replay_post(rt, opp)
        rt.erp.post_credit_memo(credit, invoice_id=ia_invoice["key"])
        assert len(stack.intacct.records(IA_INVOICE)) == len(
            stack.intacct.records(IA_PAYMENT)) == len(stack.intacct.records(IA_ADJUSTMENT)) == 1


def _klein(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
           ) -> tuple[Runtime, str, date]:
    """The runtime with FUNCTIONAL_CURRENCY=USD and no rates; Klein GmbH's EUR 12,000.00 deal
    from S, today: (the runtime, the opportunity, S)."""
    rt = clocked(stack, db_url, sessions, functional_currency="USD")
    start = today(stack)
    opp = seed(stack, DealSpec(
        "Klein GmbH - Platform", "Klein GmbH", "max@sales.example", "EUR", "Annual",
        "Net 30", 12, [LineSpec("Platform Subscription", 1, Decimal(12_000), "Recurring")],
        start))
    return rt, opp, start


def _held_without_a_rate(sessions: sessionmaker[Session], opp: str, start: date) -> list[str]:
    """The deal's open exceptions, one naming the missing EUR/USD rate of S."""
    with transaction(sessions) as s:
        reasons = [e.reason for e in s.scalars(
            select(SyncException).where(SyncException.opportunity_id == opp,
                                        SyncException.status == "open"))]
    assert any(f"no EUR/USD exchange rate for {start.isoformat()}" in r for r in reasons)
    return reasons


def _with_rates(rt: Runtime, opp: str, start: date) -> BillingInvoice:
    """The ECB's rates loaded (S 1.0850, S+10 1.1000) and the post retried: the deal's invoice."""
    with transaction(rt.sessions) as s:
        store(s, parse("Date,USD,\n"
                       f"{start + timedelta(days=10)},1.1000,\n{start},1.0850,\n"),
              source="eurofxref-hist.csv")
    replay_post(rt, opp)  # the exception's Retry
    (invoice,) = mirrored(rt.sessions, opp)
    return invoice
