"""Cash facts written back to the opportunity: a payment (Payment Date, Outstanding Balance),
refunds (Refunded Amount) and a dispute (Dispute Status), each from what closebot booked on the
ledger, through the Stripe and Salesforce emulators. Card fees are the emulator's 2.9% + $0.30:
$1,000.00 → $29.30; $2,500.00 → $72.80.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from handlers import blocks_alerts
from handlers.blocks_status import trace_message
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.db import transaction
from sync.cash.bank_lines import parse_statement
from sync.connectors.stripe_payouts import StripePayouts
from sync.engine.bank import import_statement
from sync.engine.runtime import Runtime
from sync.ops.digest import snapshot
from sync.ops.queries import find_trace
from sync.ops.reconcile import run_reconciliation
from tests.integration.books import (
    advance,
    books_rt,  # noqa: F401 - a fixture
    journal_entries,
    mirrored,
    seed,
    stripe_client,
    today,
)
from tests.integration.cash import (
    books_stack,  # noqa: F401 - a fixture
    cash,
    cash_books,
    findings,
    pay,
    payouts,
    refund,
    sandbox_post,
)

D = 100  # $1.00 in cents
CASH_FIELDS = ("Invoice_Status__c", "Outstanding_Balance__c", "Payment_Date__c",
               "Refunded_Amount__c", "Dispute_Status__c")


def _billed(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session], account: str,
            dollars: int) -> tuple[str, str]:
    """A one-year deal billed in one annual invoice of `dollars`: (opportunity, invoice)."""
    opp = seed(stack, DealSpec(
        f"{account} - Platform", account, "dana@sales.example", "USD", "Annual", "Net 30", 12,
        [LineSpec("Platform Subscription", 1, Decimal(dollars), "Recurring")], today(stack),
    ))
    sync_once(rt)
    (invoice,) = mirrored(sessions, opp)
    return opp, invoice.billing_id


def _opportunity(stack: SandboxStack, opp: str) -> tuple[Any, ...]:
    record = stack.salesforce.get("Opportunity", opp)
    money = ("Outstanding_Balance__c", "Refunded_Amount__c")
    return tuple(
        None if record.get(f) is None else
        Decimal(str(record[f])) if f in money else str(record[f]) for f in CASH_FIELDS)


def test_a_payment_sets_the_paid_date_and_clears_the_balance(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme is billed 1,000.00 and pays it by card the same day: Salesforce goes from Open,
    1,000.00 outstanding, to Paid on that day, 0.00 outstanding; nothing refunded or disputed.
    The ledger: Clearing 1,000.00 (the payment) until the cash run; AR 0."""
    stack, rt = books_stack, books_rt
    opp, invoice = _billed(stack, rt, sessions, "Acme", 1000)
    assert _opportunity(stack, opp) == ("Open", Decimal("1000"), None, None, None)
    pay(stack, invoice)
    sync_once(rt)
    assert _opportunity(stack, opp) == (
        "Paid", Decimal("0"), today(stack).isoformat(), None, None)
    books = cash_books(rt)
    assert (books["AR"], books["Clearing"]) == (0, 1000 * D)


def test_refunds_are_written_back_once_booked(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays 1,000.00 and is refunded 200.00, then 100.00 after the first payout (paid out
    with Globex's 2,500.00). Salesforce shows a refund only once closebot booked its credit memo:
    nothing after the refund alone, 200.00 after the first cash run, 300.00 after the second.

        first payout   1,000.00 - 29.30 - 200.00            =   770.70
        second payout  2,500.00 - 72.80 - 100.00            = 2,327.20
        Cash 3,097.90; Clearing 0; Customer credit 0 (owed, then paid back); card fees 102.10.
    A rerun of the cash run changes nothing, in the ledger or in Salesforce.
    """
    stack, rt = books_stack, books_rt
    acme_opp, acme = _billed(stack, rt, sessions, "Acme", 1000)
    _, globex = _billed(stack, rt, sessions, "Globex", 2500)
    charge = pay(stack, acme)
    paid_on = today(stack).isoformat()
    refund(stack, charge, 200 * D)
    sync_once(rt)
    assert _opportunity(stack, acme_opp) == ("Paid", Decimal("0"), paid_on, None, None)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid")]
    assert cash(rt).problems == []
    sync_once(rt)
    assert _opportunity(stack, acme_opp) == ("Paid", Decimal("0"), paid_on, Decimal("200"), None)
    refund(stack, charge, 100 * D)
    pay(stack, globex)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid"), (232720, "paid")]
    assert cash(rt).problems == []
    sync_once(rt)
    assert _opportunity(stack, acme_opp)[3] == Decimal("300")
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Customer credit"], books["Card fees"]) == (
        309790, 0, 0, 10210)
    assert findings(rt) == []
    written = stack.salesforce.get("Opportunity", acme_opp)["Last_Sync_Time__c"]
    entries = journal_entries(sessions)
    cash(rt)
    sync_once(rt)
    assert journal_entries(sessions) == entries
    assert stack.salesforce.get("Opportunity", acme_opp)["Last_Sync_Time__c"] == written


def test_a_dispute_status_follows_the_booked_dispute(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme's 1,000.00 card payment is disputed at once; once the cash run books the withdrawal
    (Dr Disputed funds 1,000.00, Dr Dispute fees 15.00 / Cr Clearing 1,015.00) Salesforce says
    Needs Response; lost, it books Dr Chargeback losses 1,000.00 / Cr Disputed funds and
    Salesforce says Lost. The invoice stays paid (docs/cash.md), nothing refunded.
    After: Disputed funds 0, Dispute fees 15.00, Chargeback losses 1,000.00, Clearing -15.00
    (1,000.00 in, 1,015.00 out; the 29.30 card fee is booked with the payout, none yet)."""
    stack, rt = books_stack, books_rt
    opp, invoice = _billed(stack, rt, sessions, "Acme", 1000)
    pay(stack, invoice, "pm_card_createDispute")
    sync_once(rt)
    assert _opportunity(stack, opp)[4] is None
    assert cash(rt).problems == []
    sync_once(rt)
    assert _opportunity(stack, opp)[::3] == ("Paid", None)  # status, refunded
    assert _opportunity(stack, opp)[4] == "Needs Response"
    (dispute,) = stripe_client(stack).v1.disputes.list().data
    sandbox_post(stack, f"/sandbox/disputes/{dispute['id']}/decide", {"outcome": "lost"})
    assert cash(rt).problems == []
    sync_once(rt)
    assert _opportunity(stack, opp)[4] == "Lost"
    books = cash_books(rt)
    assert (books["Disputed funds"], books["Dispute fees"], books["Chargeback losses"],
            books["Clearing"], books["AR"]) == (0, 15 * D, 1000 * D, -15 * D, 0)


def _camt(day: str, amount: str, text: str) -> bytes:
    """A one-line camt.053 statement of account 4000123456 (USD)."""
    entry = (f"<Ntry><Amt Ccy=\"USD\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd>"
             f"</Sts><BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef><NtryDtls>"
             f"<TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    return ('<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:'
            'xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><Othr><Id>4000123456'
            f'</Id></Othr></Id></Acct>{entry}</Stmt></BkToCstmrStmt></Document>').encode()


def test_the_trace_follows_the_payment_and_the_refund_to_the_bank_line(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays 1,000.00 by card and is refunded 200.00 the same day; both leave Stripe in one
    payout of 1,000.00 - 29.30 - 200.00 = 770.70, which the bank statement shows on its arrival
    day. The trace (`/deal-trace`, `closebot trace`) goes invoice → charge → payout → bank line,
    and refund → the same payout → the same line; before the statement, the bank hop waits."""
    stack, rt = books_stack, books_rt
    opp, invoice = _billed(stack, rt, sessions, "Acme", 1000)
    charge = pay(stack, invoice)
    paid_on = today(stack).isoformat()
    refunded = refund(stack, charge, 200 * D)["id"]
    sync_once(rt)
    advance(stack, days=4)
    (payout,) = stripe_client(stack).v1.payouts.list().data
    assert (payout["amount"], payout["status"]) == (77070, "paid")
    arrival = datetime.fromtimestamp(payout["arrival_date"], UTC).date().isoformat()
    assert cash(rt).problems == []
    assert cash_books(rt)["Cash"] == 77070

    def cash_hops() -> list[tuple[str, str | None, str]]:
        with transaction(sessions) as session:
            answer = find_trace(session, opp, erp="ledger")
        start = [h["hop"] for h in answer.hops].index("Payment") + 1
        return [(h["hop"], h["id"], h["state"]) for h in answer.hops[start:]
                if h["hop"].startswith(("Stripe charge", "Stripe refund", "Stripe payout",
                                        "Bank line"))]

    assert cash_hops() == [
        ("Stripe charge", charge, "ok"), ("Stripe payout", payout["id"], "ok"),
        ("Bank line", None, "not yet"),
        ("Stripe refund", refunded, "ok"), ("Stripe payout", payout["id"], "ok"),
        ("Bank line", None, "not yet")]
    source = StripePayouts(api_key=stack.stripe.api_key, api_base=stack.stripe.url)
    statement = parse_statement(_camt(arrival, "770.70", "STRIPE PAYOUT"))
    assert len(import_statement(sessions, statement, source).matched) == 1
    line = "4000123456:B-1"
    assert cash_hops() == [
        ("Stripe charge", charge, "ok"), ("Stripe payout", payout["id"], "ok"),
        ("Bank line", line, "ok"),
        ("Stripe refund", refunded, "ok"), ("Stripe payout", payout["id"], "ok"),
        ("Bank line", line, "ok")]
    with transaction(sessions) as session:
        answer = find_trace(session, opp, erp="ledger")
    details = {h["hop"]: h.get("detail") for h in answer.hops}
    shown = str(trace_message(answer, cmd="/deal-trace"))  # what /deal-trace posts
    assert f"*Bank line*: `{line}`" in shown and f"*Stripe payout*: `{payout['id']}`" in shown
    assert details["Stripe charge"] == f"USD 1,000.00 on {paid_on}"
    assert details["Stripe payout"] == f"USD 770.70 arriving {arrival}"
    assert details["Bank line"] == f"USD 770.70 on {arrival} · 4000123456 · B-1"


def test_the_digest_ties_out_the_three_systems(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme (1,000.00, paid by card) and Globex (2,500.00, open), one payout of 1,000.00 -
    29.30 = 970.70, matched to its bank line. The nightly reconciliation's figures, in the
    digest:
        Booked (Salesforce)  3,500.00 = 1,000.00 + 2,500.00
        Billed (Stripe)      3,500.00 + 0.00 still to bill
        Invoiced (ERP)       3,500.00 · 2,500.00 receivable (Globex)
        Deposits (ERP)         970.70 · 970.70 matched in the bank
        Stripe balance           0.00 = Clearing 0.00 + 0.00 to book
    No variance. Then Salesforce is edited to show Acme owing 100.00: the next reconciliation's
    variance names the opportunity and the digest shows it with its records."""
    stack, rt = books_stack, books_rt
    acme_opp, acme = _billed(stack, rt, sessions, "Acme", 1000)
    _billed(stack, rt, sessions, "Globex", 2500)
    pay(stack, acme)
    sync_once(rt)
    advance(stack, days=4)
    (payout,) = stripe_client(stack).v1.payouts.list().data
    assert payout["amount"] == 97070
    arrival = datetime.fromtimestamp(payout["arrival_date"], UTC).date().isoformat()
    assert cash(rt).problems == []
    source = StripePayouts(api_key=stack.stripe.api_key, api_base=stack.stripe.url)
    import_statement(sessions, parse_statement(_camt(arrival, "970.70", "STRIPE PAYOUT")), source)
    run_reconciliation(rt)
    text = _digest_text(sessions)
    for line in ("*Booked (Salesforce)*\nUSD 3,500.00",
                 "*Billed (Stripe)*\nUSD 3,500.00 + USD 0.00 still to bill",
                 "*Invoiced (ERP)*\nUSD 3,500.00 · USD 2,500.00 receivable",
                 "*Deposits (ERP)*\nUSD 970.70 · USD 970.70 matched in the bank",
                 "*Stripe balance*\nUSD 0.00",
                 "*Stripe Clearing*\nUSD 0.00 + USD 0.00 to book",
                 "no variance"):
        assert line in text, line
    stack.salesforce.update("Opportunity", acme_opp, {"Outstanding_Balance__c": 100})
    sync_once(rt)  # intake reads the edit, so the deal isn't in flight at the reconciliation
    run_reconciliation(rt)
    text = _digest_text(sessions)
    assert "no variance" not in text
    assert "Salesforce shows USD 100.00 outstanding but Stripe says USD 0.00" in text
    assert f"records: Salesforce {acme_opp}" in text


def _digest_text(sessions: sessionmaker[Session]) -> str:
    """The digest message as the daily job renders it for Slack."""
    with transaction(sessions) as session:
        digest = snapshot(session, now=datetime.now(UTC), today=datetime.now(UTC).date())
    _, blocks = blocks_alerts.digest(digest)

    def texts(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [t for k, v in node.items()
                    for t in ([v] if k == "text" and isinstance(v, str) else texts(v))]
        return [t for v in node for t in texts(v)] if isinstance(node, list) else []

    return "\n".join(texts(blocks))


def test_a_refund_that_fails_is_no_longer_refunded(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays 1,000.00 by a card whose refunds fail; a 200.00 refund leaves the balance
    with the first payout, then fails a day later and comes back with the second (Dr Clearing /
    Cr Customer credit: still owed to Acme). Salesforce shows 0.00 refunded: the customer never
    got the money, though the refund's credit memo was booked.
        payout 1  1,000.00 - 29.30 - 200.00 = 770.70
        payout 2                      200.00
        Cash 970.70; Clearing 0; Customer credit 200.00 owed (-200.00, debit positive)
    """
    stack, rt = books_stack, books_rt
    opp, invoice = _billed(stack, rt, sessions, "Acme", 1000)
    charge = pay(stack, invoice, "pm_card_refundFail")
    refund(stack, charge, 200 * D)
    sync_once(rt)
    advance(stack, days=5)
    assert payouts(stack) == [(77070, "paid"), (20000, "paid")]
    assert cash(rt).problems == []
    sync_once(rt)
    assert _opportunity(stack, opp)[3] == Decimal("0")
    books = cash_books(rt)
    # NetSuite books the failed refund's journal line to AR, where a customer's credit lives
    # there; the ledger keeps it in Customer credit. Either way 200.00 is owed back to Acme.
    owed = books["Customer credit"] + (books["AR"] if stack.netsuite is not None else 0)
    assert (books["Cash"], books["Clearing"], owed) == (97070, 0, -200 * D)
    cash(rt)
    sync_once(rt)
    assert _opportunity(stack, opp)[3] == Decimal("0")  # a rerun doesn't count it again
