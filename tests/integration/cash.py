"""What the cash worked examples share: small card-paid deals, paying and refunding through the
Stripe emulator, the cash run, and the cash accounts read back by name from the ledger, from
NetSuite's general ledger (SuiteQL `transactionaccountingline`) or from Sage Intacct's (the
trial balance its records post)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.ledger import LedgerCreditMemo
from sync.cash.audit import CashFinding
from sync.cash.run import CashRun, cash_findings, run_cash
from sync.connectors.intacct import IntacctErp
from sync.connectors.netsuite import NetSuiteErp
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from tests.integration.books import (
    dollars,
    ia_records,
    journal_entries,
    mirrored,
    ns_records,
    seed,
    stripe_client,
    today,
)

CASH_ACCOUNTS = {
    "1000": "Cash", "1100": "AR", "1200": "Clearing", "1300": "Disputed funds",
    "2200": "Customer credit", "4900": "Credits & allowances", "6100": "Card fees",
    "6300": "Dispute fees", "6400": "Chargeback losses",
}


# NetSuite's chart by number (sandbox/netsuite/schema.py, sync/connectors/netsuite_cash.py).
NS_ACCOUNTS = {
    "1000": "Cash", "1100": "AR", "1200": "Clearing", "1300": "Disputed funds",
    "6100": "Card fees", "6300": "Dispute fees", "6400": "Chargeback losses",
}


# Sage Intacct's chart by GL account (sandbox/intacct/objects.py, sync/connectors/intacct_cash.py):
# Clearing is Undeposited Funds.
IA_ACCOUNTS = {
    "1000": "Cash", "1100": "AR", "1010": "Clearing", "1300": "Disputed funds",
    "6100": "Card fees", "6300": "Dispute fees", "6400": "Chargeback losses",
    "2200": "Customer credit",  # Customer Advances: overpayments kept as AR advances
}
IA_ADVANCE = "accounts-receivable/advance"
IA_INVOICE, IA_ADJUSTMENT = "accounts-receivable/invoice", "accounts-receivable/adjustment"
IA_PAYMENT, IA_JOURNAL = "accounts-receivable/payment", "general-ledger/journal-entry"
IA_JOURNAL_LINE = "general-ledger/journal-entry-line"


@pytest.fixture(params=["ledger", "netsuite", "intacct"])
def books_stack(request: pytest.FixtureRequest) -> Iterator[SandboxStack]:
    with SandboxStack(erp=request.param, slack=False) as stack:
        yield stack


def billed(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session], account: str,
           dollars: int) -> str:
    """A one-year deal billed in one annual invoice of `dollars`, posted; its Stripe invoice."""
    opp = seed(stack, DealSpec(
        f"{account} - Platform", account, "dana@sales.example", "USD", "Annual", "Net 30", 12,
        [LineSpec("Platform Subscription", 1, Decimal(dollars), "Recurring")], today(stack),
    ))
    sync_once(rt)
    (invoice,) = mirrored(sessions, opp)
    assert invoice.total_minor == dollars * 100
    return invoice.billing_id


def pay(stack: SandboxStack, invoice_id: str, card: str = "pm_card_visa") -> str:
    """Pay the invoice by card; returns the charge."""
    client = stripe_client(stack)
    customer = client.v1.invoices.retrieve(invoice_id)["customer"]
    pm = client.v1.payment_methods.attach(card, {"customer": customer})
    client.v1.invoices.pay(invoice_id, {"payment_method": pm["id"]})
    pi = client.v1.invoice_payments.list({"invoice": invoice_id}).data[0]["payment"]
    return str(client.v1.payment_intents.retrieve(pi["payment_intent"])["latest_charge"])


def refund(stack: SandboxStack, charge: str, cents: int) -> dict[str, Any]:
    return stripe_client(stack).v1.refunds.create({"charge": charge, "amount": cents}).to_dict()


def sandbox_post(stack: SandboxStack, path: str, data: dict[str, str]) -> dict[str, Any]:
    """The emulator's stand-ins for what happens outside Stripe's API (a network's decision)."""
    response = httpx.post(f"{stack.stripe.url}{path}", data=data,
                          auth=(stack.stripe.api_key, ""))
    response.raise_for_status()
    return dict(response.json())


def cash(rt: Runtime) -> CashRun:
    assert rt.cash is not None
    return run_cash(rt.cash.reads, rt.cash.erp, rt.sessions)


def findings(rt: Runtime) -> list[CashFinding]:
    assert rt.cash is not None
    return cash_findings(rt.cash.reads, rt.cash.erp, rt.sessions)


def stripe_balance(rt: Runtime) -> int:
    assert rt.cash is not None
    return rt.cash.reads.balance().get("USD", 0)


def payouts(stack: SandboxStack) -> list[tuple[int, str]]:
    """(amount, status) of each payout, oldest first."""
    found = stripe_client(stack).v1.payouts.list({"limit": 100}).data
    return [(int(p["amount"]), str(p["status"])) for p in reversed(found)]


def cash_books(rt: Runtime) -> dict[str, int]:
    """The cash accounts' balances, debit positive, by name. On NetSuite a customer's credit is
    an unapplied credit memo or customer payment inside AR; it is shown apart, as the ledger
    keeps it. On Sage Intacct it is what the AR account holds beyond what the invoices still
    owe."""
    if isinstance(rt.erp, IntacctErp):
        return _intacct_books(rt.erp)
    if not isinstance(rt.erp, NetSuiteErp):
        trial = Ledger(rt.sessions).trial_balance("USD")
        return {name: trial.get(code, 0) for code, name in CASH_ACCOUNTS.items()}
    numbers = {row["id"]: row["acctnumber"]
               for row in rt.erp.suiteql("SELECT id, acctnumber FROM account")}
    books = dict.fromkeys(CASH_ACCOUNTS.values(), 0)
    for line in rt.erp.suiteql("SELECT account, amount FROM transactionaccountingline"):
        if (name := NS_ACCOUNTS.get(numbers[line["account"]])) is not None:
            books[name] += dollars(line["amount"])
    credit = sum(dollars(row["foreignamountremaining"]) for row in rt.erp.suiteql(
        "SELECT foreignamountremaining FROM transaction WHERE type IN ('CustCred', "
        "'CustPymt')"))
    books["Customer credit"], books["AR"] = -credit, books["AR"] + credit
    return books


def _intacct_books(erp: IntacctErp) -> dict[str, int]:
    """Sage Intacct's trial balance read through its query service: journal entry lines as they
    are, payments Dr Undeposited Funds / Cr AR, advances Dr Undeposited Funds / Cr Customer
    Advances and, as payments apply them, Dr Customer Advances / Cr AR, invoices and
    adjustments to AR."""
    books = dict.fromkeys(CASH_ACCOUNTS.values(), 0)
    account = {number: 0 for number in IA_ACCOUNTS}
    for line in erp.query(IA_JOURNAL_LINE, ["glAccount.id", "txnAmount", "txnType"]):
        if line["glAccount.id"] in account:
            sign = 1 if line["txnType"] == "debit" else -1
            account[line["glAccount.id"]] += sign * dollars(line["txnAmount"])
    for payment in erp.query(IA_PAYMENT, ["totalTxnAmount", "undepositedFundsGLAccount.id"]):
        if (into := payment["undepositedFundsGLAccount.id"]) is not None:
            account[into] += dollars(payment["totalTxnAmount"])
            account["1100"] -= dollars(payment["totalTxnAmount"])
    for advance in erp.query(IA_ADVANCE, ["totalTxnAmount", "totalTxnAmountApplied",
                                          "undepositedFundsGLAccount.id"]):
        total, applied = dollars(advance["totalTxnAmount"]), dollars(
            advance["totalTxnAmountApplied"])
        account[advance["undepositedFundsGLAccount.id"]] += total
        account["2200"] += applied - total
        account["1100"] -= applied
    owed = 0
    for obj in (IA_INVOICE, IA_ADJUSTMENT):
        for doc in erp.query(obj, ["totalTxnAmount", "totalTxnAmountDue"]):
            account["1100"] += dollars(doc["totalTxnAmount"])
            owed += dollars(doc["totalTxnAmountDue"]) if obj == IA_INVOICE else 0
    for number, name in IA_ACCOUNTS.items():
        books[name] += account[number]
    books["Customer credit"] += books["AR"] - owed  # credit left open in AR, and advances
    books["AR"] = owed
    return books


def entries(rt: Runtime) -> int:
    """Every entry the books hold: the ledger's journal entries, NetSuite's transactions, Sage
    Intacct's AR documents and journal entries."""
    if isinstance(rt.erp, IntacctErp):
        return sum(len(list(rt.erp.query(obj, ["key"]))) for obj in (
            IA_INVOICE, IA_ADJUSTMENT, IA_PAYMENT, IA_ADVANCE, IA_JOURNAL))
    if not isinstance(rt.erp, NetSuiteErp):
        return journal_entries(rt.sessions)
    return len(list(rt.erp.suiteql("SELECT id FROM transaction")))


def refund_memos(rt: Runtime, stack: SandboxStack) -> list[tuple[int, int]]:
    """(amount, the part left to the customer's credit) of each refund's credit memo."""
    if stack.intacct is not None:  # an adjustment's amounts are negative in Sage
        return [(-dollars(a["totalTxnAmount"]), -dollars(a["totalTxnAmountDue"]))
                for a in ia_records(stack, IA_ADJUSTMENT)
                if a["referenceNumber"].startswith("refund:")]
    if stack.netsuite is None:
        with rt.sessions() as s:
            return [(m.amount_minor, m.to_customer_credit_minor) for m in s.scalars(
                select(LedgerCreditMemo).order_by(LedgerCreditMemo.id))]
    return [(dollars(m["total"]), dollars(m["total"]) - dollars(m.get("applied", 0)))
            for m in ns_records(stack, "creditMemo") if m["externalId"].startswith("refund:")]


def invoice_state(rt: Runtime, stack: SandboxStack, invoice_id: str) -> tuple[int, int]:
    """(paid, open) of an invoice in the books."""
    if stack.intacct is not None:
        (invoice,) = ia_records(stack, IA_INVOICE, invoice_id)
        return dollars(invoice["totalTxnAmountPaid"]), dollars(invoice["totalTxnAmountDue"])
    if stack.netsuite is None:
        view = Ledger(rt.sessions).invoice(invoice_id)
        assert view is not None
        return view.paid_minor, view.open_minor
    (invoice,) = ns_records(stack, "invoice", invoice_id)
    return dollars(invoice["amountPaid"]), dollars(invoice["amountRemaining"])
