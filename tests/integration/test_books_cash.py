"""Cash worked examples end to end: deals billed in Stripe, paid by card, refunded or disputed,
paid out on Stripe's daily schedule, then booked by the cash run on the embedded ledger and tied
out to the cent against Stripe's payouts and balance.

Card fees are 2.9% + $0.30 (the emulator's, Stripe's US list price): $1,000.00 → $29.30;
$2,500.00 → $72.80; $400.00 → $11.90. Card funds are available two days after the charge and
paid out daily; the payout arrives the next day.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from sandbox.stack import SandboxStack
from storage.tables import SyncException
from sync.cash.run import open_exceptions
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    advance,
    books_rt,  # noqa: F401 - a fixture
    stripe_client,
)
from tests.integration.cash import (
    billed,
    books_stack,  # noqa: F401 - a fixture
    cash,
    cash_books,
    entries,
    findings,
    invoice_state,
    pay,
    payouts,
    refund,
    refund_memos,
    sandbox_post,
    stripe_balance,
)

D = 100  # $1.00 in cents


def test_payout_with_fees_across_three_customers(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Three invoices paid by card the same day, paid out together.

                                        Dr          Cr
        payments (x3)   Clearing     3,900.00
                        AR                       3,900.00
        card fees       Card fees      114.00
                        Clearing                   114.00
        payout          Cash         3,786.00
                        Clearing                 3,786.00

    After: Clearing 0, AR 0, Cash 3,786.00 = Stripe's payout, fees 114.00; Stripe's balance 0.
    """
    stack, rt = books_stack, books_rt
    for account, dollars in (("Acme", 1000), ("Globex", 2500), ("Initech", 400)):
        pay(stack, billed(stack, rt, sessions, account, dollars))
    sync_once(rt)  # the payments reach the ledger (Dr Clearing / Cr AR)
    advance(stack, days=4)
    assert payouts(stack) == [(3786 * D, "paid")]
    run = cash(rt)
    assert (run.payouts, run.settled, run.transactions, run.problems) == (1, 1, 3, [])
    books = cash_books(rt)
    assert (books["Clearing"], books["AR"], books["Cash"], books["Card fees"]) == (
        0, 0, 3786 * D, 114 * D)
    assert stripe_balance(rt) == 0 and findings(rt) == []
    before = entries(rt)
    cash(rt)  # a replay (a second scheduler tick, a restart) books nothing again
    assert entries(rt) == before


def test_partial_refunds_before_and_after_the_payout(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays 1,000.00 and is refunded 200.00 the same day: its funds aren't available yet,
    so the refund waits for them, then leaves with the first payout: 1,000.00 - 29.30 - 200.00 =
    770.70. A second refund of 100.00 after that payout waits on an empty balance until Globex's
    2,500.00 is available: 2,500.00 - 72.80 - 100.00 = 2,327.20.

                                           Dr          Cr
        refunds (x2)   credit memos     300.00 (Deferred revenue)
                       Customer credit             300.00
                       Customer credit  300.00
                       Clearing                    300.00

    After: Cash 3,097.90 = 770.70 + 2,327.20 = 3,500.00 - 102.10 - 300.00; Clearing 0;
    customer credit 0; Acme's invoice paid, with two credit memos of 200.00 and 100.00.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    globex = billed(stack, rt, sessions, "Globex", 2500)
    charge = pay(stack, acme)
    assert refund(stack, charge, 200 * D)["status"] == "pending"  # short balance: it waits
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid")]
    cash(rt)
    assert cash_books(rt)["Cash"] == 77070 and cash_books(rt)["Clearing"] == 0
    assert refund(stack, charge, 100 * D)["status"] == "pending"
    pay(stack, globex)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid"), (232720, "paid")]
    run = cash(rt)
    assert run.problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Card fees"], books["Customer credit"],
            books["AR"]) == (309790, 0, 10210, 0, 0)
    assert refund_memos(rt, stack) == [(200 * D, 200 * D), (100 * D, 100 * D)]  # owed back
    assert invoice_state(rt, stack, acme) == (1000 * D, 0)
    assert stripe_balance(rt) == 0 and findings(rt) == []
    # The money audit leaves refunds to the cash audit (Stripe's invoice stays billed); the
    # ledger's schedule gave up the refunded revenue, which the revenue audit counts. The worker
    # first writes the refunds back to Salesforce.
    sync_once(rt)
    report = run_audit(rt, require_alerts=False)
    assert report.failing == [], report.problems()


def test_dispute_won(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme's 1,000.00 card payment is disputed at once: 1,000.00 and a 15.00 fee leave the
    balance. Booked when the cash run sees it, before any payout:

                               Dr          Cr
        dispute   Disputed   1,000.00
                  Dispute fees  15.00
                  Clearing              1,015.00

    Clearing -15.00 (1,000.00 paid in - 1,015.00); Stripe's balance -44.30 is that plus the
    29.30 card fee still to book. Won: the reverse, and the payout is the charge's 970.70.
    After: Cash 970.70, Clearing 0, disputed funds 0, dispute fees 0, card fees 29.30.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    pay(stack, acme, "pm_card_createDispute")
    sync_once(rt)
    cash(rt)
    books = cash_books(rt)
    assert (books["Disputed funds"], books["Dispute fees"], books["Clearing"]) == (
        1000 * D, 15 * D, -15 * D)
    assert stripe_balance(rt) == -4430 and findings(rt) == []
    (dispute,) = stripe_client(stack).v1.disputes.list().data
    sandbox_post(stack, f"/sandbox/disputes/{dispute['id']}/decide", {"outcome": "won"})
    advance(stack, days=4)
    assert payouts(stack) == [(97070, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Disputed funds"], books["Dispute fees"],
            books["Card fees"], books["Chargeback losses"]) == (97070, 0, 0, 0, 2930, 0)
    assert stripe_balance(rt) == 0 and findings(rt) == []


def test_dispute_lost(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """The same dispute, lost: Dr Chargeback losses 1,000.00 / Cr Disputed funds; the invoice
    stays paid (policy: docs/cash.md) and the 15.00 fee stays an expense. The balance is
    negative (970.70 - 1,015.00 = -44.30), so nothing is paid out until Globex's 2,500.00:
    2,427.20 - 44.30 = 2,382.90 = 3,500.00 - 102.10 - 1,000.00 - 15.00.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    globex = billed(stack, rt, sessions, "Globex", 2500)
    pay(stack, acme, "pm_card_createDispute")
    sync_once(rt)
    (dispute,) = stripe_client(stack).v1.disputes.list().data
    sandbox_post(stack, f"/sandbox/disputes/{dispute['id']}/decide", {"outcome": "lost"})
    advance(stack, days=4)
    assert payouts(stack) == []
    cash(rt)
    before = entries(rt)
    cash(rt)
    assert entries(rt) == before
    pay(stack, globex)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(238290, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"], books["Disputed funds"],
            books["Dispute fees"], books["Chargeback losses"], books["Card fees"]) == (
        238290, 0, 0, 0, 15 * D, 1000 * D, 10210)
    assert stripe_balance(rt) == 0 and findings(rt) == []


def test_refund_of_a_charge_made_before_go_live(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """A 1,000.00 card payment taken in Stripe before closebot (no invoice closebot posted), then
    refunded 100.00. Paid out: 1,000.00 - 29.30 - 100.00 = 870.70. closebot books the fee and
    the payout, and leaves the charge and the refund to a person as two cash exceptions: Clearing
    -900.00 is exactly their 1,000.00 - 100.00, which the audit names on the payout.
    """
    stack, rt = books_stack, books_rt
    client = stripe_client(stack)
    customer = client.v1.customers.create({"name": "Old Customer"})["id"]
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})["id"]
    pi = client.v1.payment_intents.create({"amount": 1000 * D, "currency": "usd",
                                           "customer": customer, "payment_method": pm,
                                           "confirm": True})
    refund(stack, str(pi["latest_charge"]), 100 * D)
    advance(stack, days=4)
    assert payouts(stack) == [(87070, "paid")]
    run = cash(rt)
    assert len(run.problems) == 2 and run.settled == 1
    reasons = [e.reason for e in open_exceptions(sessions)]
    assert any("of USD 1,000.00 is on no invoice closebot posted" in r for r in reasons)
    assert any("refund" in r and "of USD 100.00 is for a charge on no invoice" in r
               for r in reasons)
    books = cash_books(rt)
    assert (books["Cash"], books["Card fees"], books["Clearing"]) == (87070, 2930, -900 * D)
    assert [(f.kind, f.erp_minor) for f in findings(rt)] == [("payout_not_settled", -900 * D)]
    before = entries(rt)
    assert run_job(rt, "cash")["cash_exceptions"] == 2  # the scheduled job, run again
    assert entries(rt) == before and len(open_exceptions(sessions)) == 2
    with sessions() as s:  # one exception for people, which the alert sweep posts to Slack
        (alert,) = s.scalars(select(SyncException).where(SyncException.kind == "cash"))
    assert alert.status == "open" and alert.reason.startswith("2 money movement(s) in Stripe")


def test_bank_debit_that_fails_after_three_days(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays its 1,000.00 invoice by ACH debit: the debit is processing, so Stripe's
    invoice stays open and nothing is booked (no payment, no Clearing). Three days later the
    bank returns it. The books never saw cash: AR 1,000.00, Clearing 0, Cash 0, no payout, no
    fee, no cash exception; the invoice is still open in Stripe and in the ledger.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    client = stripe_client(stack)
    customer = client.v1.invoices.retrieve(acme)["customer"]
    pm = client.v1.payment_methods.create({
        "type": "us_bank_account", "billing_details": {"name": "Acme Corp"},
        "us_bank_account": {"routing_number": "110000000", "account_number": "000123456789",
                            "account_holder_type": "company"}})
    client.v1.payment_methods.attach(pm["id"], {"customer": customer})
    client.v1.invoices.pay(acme, {"payment_method": pm["id"]})
    sync_once(rt)
    assert cash_books(rt)["AR"] == 1000 * D
    advance(stack, days=3)
    pi = client.v1.invoice_payments.list({"invoice": acme}).data[0]["payment"]["payment_intent"]
    sandbox_post(stack, f"/sandbox/payment_intents/{pi}/fail",
                 {"failure_code": "insufficient_funds"})
    sync_once(rt)
    advance(stack, days=4)
    run = cash(rt)
    assert (run.payouts, run.problems) == (0, []) and payouts(stack) == []
    books = cash_books(rt)
    assert (books["AR"], books["Clearing"], books["Cash"], books["Card fees"]) == (
        1000 * D, 0, 0, 0)
    assert client.v1.invoices.retrieve(acme)["status"] == "open"
    assert invoice_state(rt, stack, acme)[1] == 1000 * D
    assert stripe_balance(rt) == 0 and findings(rt) == [] and open_exceptions(sessions) == []


def test_a_refund_waits_for_its_payment_to_reach_the_books(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays 1,000.00 and is refunded 200.00 the same day; the payment's event is late
    (Stripe or the worker down) when the cash run books the 770.70 payout (1,000.00 - 29.30 -
    200.00). Credited first, the invoice would be left 800.00 open and the late 1,000.00
    payment would overpay it; so the refund's credit memo waits:

        first cash run   Card fees    29.30 / Clearing    29.30
                         Cash        770.70 / Clearing   770.70    Clearing -800.00
        payment          Clearing  1,000.00 / AR      1,000.00     Clearing  200.00
        next cash run    memo 200.00 to customer credit,
                         Customer credit 200.00 / Clearing 200.00  Clearing    0.00

    After: Cash 770.70, Clearing 0, AR 0; the invoice paid with one memo of 200.00, owed back.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    refund(stack, pay(stack, acme), 200 * D)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid")]
    waiting = cash(rt)
    (problem,) = waiting.problems
    assert "200.00 waits for invoice" in problem.reason and "payment" in problem.reason
    assert len(open_exceptions(sessions)) == 1
    sync_once(rt)  # the payment arrives
    assert cash(rt).problems == [] and open_exceptions(sessions) == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Card fees"], books["AR"]) == (
        77070, 0, 2930, 0)
    assert refund_memos(rt, stack) == [(200 * D, 200 * D)]
    assert invoice_state(rt, stack, acme) == (1000 * D, 0)
    assert stripe_balance(rt) == 0 and findings(rt) == []
