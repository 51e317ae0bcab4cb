"""Cash worked examples on the embedded ledger: fees, refunds, disputes and payouts, each checked
account by account against balances worked out by hand first.

Card fees are 2.9% + $0.30: $1,000.00 → $29.30; $2,500.00 → $72.80; $400.00 → $11.90.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from sync.cash.payouts import reconcile_dispute, reconcile_payout, reconcile_payouts
from sync.connectors.ledger_cash import LedgerCash
from sync.ledger import Ledger
from sync.ledger.accounts import (
    CASH,
    CHARGEBACK_LOSSES,
    CREDITS_ALLOWANCES,
    CUSTOMER_CREDIT,
    DISPUTE_FEES,
    DISPUTED_FUNDS,
    PROCESSING_FEES,
    RECEIVABLE,
    STRIPE_CLEARING,
)
from sync.ports_cash import BalanceTxn, CashDispute
from tests.unit.cashbooks import (
    DAY,
    D,
    StripeBalance,
    charge,
    dispute_back,
    dispute_out,
    entries,
    paid_invoice,
    refund,
)


def balances(ledger: Ledger, *codes: str) -> dict[str, int]:
    assert ledger.unbalanced_entries() == []
    assert sum(ledger.trial_balance("USD").values()) == 0
    return {code: ledger.account_balance(code, "USD") for code in codes}


def test_payout_with_fees_across_three_customers(sessions: sessionmaker[Session]) -> None:
    # Gross 1,000.00 + 2,500.00 + 400.00 = 3,900.00; fees 29.30 + 72.80 + 11.90 = 114.00;
    # the bank receives 3,786.00. Clearing: +3,900.00 - 114.00 - 3,786.00 = 0.
    ledger = Ledger(sessions)
    for inv, amount in (("in_a", 1000 * D), ("in_b", 2500 * D), ("in_c", 400 * D)):
        paid_invoice(ledger, inv, amount)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 3786 * D, [
        charge("txn_a", "in_a", 1000 * D, 2930, "po_1"),
        charge("txn_b", "in_b", 2500 * D, 7280, "po_1"),
        charge("txn_c", "in_c", 400 * D, 1190, "po_1"),
    ])
    erp = LedgerCash(ledger)
    [outcome] = list(reconcile_payouts(stripe, erp))
    assert outcome.problems == [] and outcome.settled and outcome.transactions == 3
    assert balances(ledger, STRIPE_CLEARING, PROCESSING_FEES, CASH, RECEIVABLE) == {
        STRIPE_CLEARING: 0, PROCESSING_FEES: 114 * D, CASH: 3786 * D, RECEIVABLE: 0,
    }
    # Every transaction is tied to its entry; a replay (duplicate webhook, restart) adds none.
    posted = erp.posted(["stripe:txn_a", "stripe:txn_b", "stripe:txn_c", "stripe:po_1"])
    assert posted == {"stripe:txn_a": -2930, "stripe:txn_b": -7280, "stripe:txn_c": -1190,
                      "stripe:po_1": -3786 * D}
    before = entries(sessions)
    list(reconcile_payouts(stripe, LedgerCash(ledger)))
    assert entries(sessions) == before


def test_partial_payment_then_the_rest(sessions: sessionmaker[Session]) -> None:
    # 400.00 then 600.00 on a 1,000.00 invoice, each its own charge and payout:
    # fees 11.90 and 17.70 (2.9% of 600 = 17.40 + 0.30); payouts 388.10 and 582.30.
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D, paid=400 * D)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 38810, [charge("txn_1", "in_a", 400 * D, 1190, "po_1")])
    erp = LedgerCash(ledger)
    list(reconcile_payouts(stripe, erp))
    assert balances(ledger, RECEIVABLE, STRIPE_CLEARING)[RECEIVABLE] == 600 * D
    ledger.apply_payment(external_id="in_a:paid@1000", invoice_external_id="in_a",
                         amount_minor=600 * D, currency="USD", paid_on=DAY)
    stripe.pay_out("po_2", 58230, [charge("txn_2", "in_a", 600 * D, 1770, "po_2")])
    assert all(o.settled and not o.problems for o in reconcile_payouts(stripe, erp))
    assert balances(ledger, RECEIVABLE, STRIPE_CLEARING, CASH, PROCESSING_FEES) == {
        RECEIVABLE: 0, STRIPE_CLEARING: 0, CASH: 97040, PROCESSING_FEES: 2960,
    }


def test_partial_refund_before_and_after_the_payout(sessions: sessionmaker[Session]) -> None:
    # in_a 1,000.00 paid, fee 29.30. Refund 200.00 before the payout: po_1 = 1,000.00 - 29.30 -
    # 200.00 = 770.70. Refund 100.00 after it reduces the next payout, which also settles in_b
    # (2,500.00, fee 72.80): po_2 = 2,500.00 - 72.80 - 100.00 = 2,327.20.
    # Each refund credits the paid invoice (a customer credit, no SO, so Credits & Allowances)
    # and pays that credit out of Clearing. Cash 3,097.90 = 3,500.00 - 102.10 - 300.00.
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    paid_invoice(ledger, "in_b", 2500 * D)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 77070, [
        charge("txn_a", "in_a", 1000 * D, 2930, "po_1"), refund("txn_r1", "in_a", 200 * D, "po_1"),
    ])
    stripe.pay_out("po_2", 232720, [
        charge("txn_b", "in_b", 2500 * D, 7280, "po_2"), refund("txn_r2", "in_a", 100 * D, "po_2"),
    ])
    erp = LedgerCash(ledger)
    assert [(o.settled, o.problems) for o in reconcile_payouts(stripe, erp)] == [
        (True, []), (True, []),
    ]
    assert balances(
        ledger, STRIPE_CLEARING, CASH, PROCESSING_FEES, CUSTOMER_CREDIT, CREDITS_ALLOWANCES,
        RECEIVABLE,
    ) == {
        STRIPE_CLEARING: 0, CASH: 309790, PROCESSING_FEES: 10210, CUSTOMER_CREDIT: 0,
        CREDITS_ALLOWANCES: 300 * D, RECEIVABLE: 0,
    }
    view = ledger.invoice("in_a")
    assert view is not None and view.open_minor == 0


def _disputed(stripe: StripeBalance, status: str, txns: list[BalanceTxn]) -> None:
    stripe.disputes_by_id["dp_1"] = CashDispute(
        "dp_1", "ch_txn_a", "in_a", 1000 * D, "USD", status, DAY, tuple(txns)
    )


def test_dispute_won(sessions: sessionmaker[Session]) -> None:
    # po_1 settles in_a: 970.70. The dispute takes 1,000.00 + a 15.00 fee out of po_2, which also
    # settles in_b: 2,427.20 - 1,015.00 = 1,412.20. Won: both come back in po_3: 1,015.00.
    # Cash 3,397.90 = 3,500.00 - 102.10 card fees; disputed funds and dispute fees back to 0.
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    paid_invoice(ledger, "in_b", 2500 * D)
    out = dispute_out("txn_d", "in_a", 1000 * D, 1500, "po_2")
    back = dispute_back("txn_w", "in_a", 1000 * D, 1500, "po_3")
    stripe = StripeBalance()
    stripe.pay_out("po_1", 97070, [charge("txn_a", "in_a", 1000 * D, 2930, "po_1")])
    stripe.pay_out("po_2", 141220, [charge("txn_b", "in_b", 2500 * D, 7280, "po_2"), out])
    erp = LedgerCash(ledger)
    list(reconcile_payouts(stripe, erp))
    assert balances(ledger, DISPUTED_FUNDS, DISPUTE_FEES, STRIPE_CLEARING) == {
        DISPUTED_FUNDS: 1000 * D, DISPUTE_FEES: 1500, STRIPE_CLEARING: 0,
    }
    _disputed(stripe, "won", [out, back])
    assert reconcile_dispute(stripe, erp, "dp_1", today=DAY) == []
    stripe.pay_out("po_3", 101500, [back])
    list(reconcile_payouts(stripe, erp))
    assert balances(
        ledger, STRIPE_CLEARING, CASH, PROCESSING_FEES, DISPUTED_FUNDS, DISPUTE_FEES,
        CHARGEBACK_LOSSES,
    ) == {
        STRIPE_CLEARING: 0, CASH: 339790, PROCESSING_FEES: 10210, DISPUTED_FUNDS: 0,
        DISPUTE_FEES: 0, CHARGEBACK_LOSSES: 0,
    }


def test_dispute_lost_with_its_events_out_of_order(sessions: sessionmaker[Session]) -> None:
    # The "closed: lost" event arrives before the withdrawal was booked: reading the dispute as
    # Stripe has it books the withdrawal, then the loss. po_2 later lists the same withdrawal and
    # books nothing twice. The invoice stays paid; the 1,000.00 is a chargeback loss and the
    # 15.00 fee an expense. Cash 2,382.90 = 3,500.00 - 102.10 - 1,000.00 - 15.00.
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    paid_invoice(ledger, "in_b", 2500 * D)
    out = dispute_out("txn_d", "in_a", 1000 * D, 1500, "po_2")
    stripe = StripeBalance()
    erp = LedgerCash(ledger)
    _disputed(stripe, "lost", [])
    [problem] = reconcile_dispute(stripe, erp, "dp_1", today=DAY)
    assert "no money withdrawn" in problem.reason and problem.subject == "dp_1"
    _disputed(stripe, "lost", [out])
    assert reconcile_dispute(stripe, erp, "dp_1", today=DAY) == []
    assert reconcile_dispute(stripe, erp, "dp_1", today=date(2024, 4, 1)) == []
    stripe.pay_out("po_1", 97070, [charge("txn_a", "in_a", 1000 * D, 2930, "po_1")])
    stripe.pay_out("po_2", 141220, [charge("txn_b", "in_b", 2500 * D, 7280, "po_2"), out])
    list(reconcile_payouts(stripe, erp))
    assert balances(
        ledger, STRIPE_CLEARING, CASH, DISPUTED_FUNDS, DISPUTE_FEES, CHARGEBACK_LOSSES, RECEIVABLE,
    ) == {
        STRIPE_CLEARING: 0, CASH: 238290, DISPUTED_FUNDS: 0, DISPUTE_FEES: 1500,
        CHARGEBACK_LOSSES: 1000 * D, RECEIVABLE: 0,
    }


def test_payout_whose_transactions_dont_add_up(sessions: sessionmaker[Session]) -> None:
    # Stripe says 3,786.01 but the transactions net to 3,786.00: the fees are booked (they
    # happened), the payout is not; Clearing keeps the 3,786.00 until a person sorts it out.
    ledger = Ledger(sessions)
    for inv, amount in (("in_a", 1000 * D), ("in_b", 2500 * D), ("in_c", 400 * D)):
        paid_invoice(ledger, inv, amount)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 3786 * D + 1, [
        charge("txn_a", "in_a", 1000 * D, 2930, "po_1"),
        charge("txn_b", "in_b", 2500 * D, 7280, "po_1"),
        charge("txn_c", "in_c", 400 * D, 1190, "po_1"),
    ])
    [outcome] = list(reconcile_payouts(stripe, LedgerCash(ledger)))
    assert not outcome.settled
    assert [p.subject for p in outcome.problems] == ["po_1"]
    assert "USD 3,786.01" in outcome.problems[0].reason
    assert "net to USD 3,786.00" in outcome.problems[0].reason
    assert balances(ledger, STRIPE_CLEARING, CASH) == {STRIPE_CLEARING: 3786 * D, CASH: 0}


def test_charge_and_refund_from_before_go_live(sessions: sessionmaker[Session]) -> None:
    # ch_txn_old paid an invoice from before closebot (unknown to the ERP): its 29.30 fee is
    # booked, its 1,000.00 is a problem for a person; the refund of another old charge books
    # nothing. Clearing -29.30 is what a person still has to explain.
    ledger = Ledger(sessions)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 97070 - 50 * D, [
        charge("txn_old", None, 1000 * D, 2930, "po_1"), refund("txn_r", "in_gone", 50 * D, "po_1"),
    ])
    [outcome] = list(reconcile_payouts(stripe, LedgerCash(ledger)))
    assert [p.subject for p in outcome.problems] == ["txn_old", "txn_r"]
    assert "ch_txn_old of USD 1,000.00 is on no invoice closebot posted" in (
        outcome.problems[0].reason)
    assert "refund re_txn_r of USD 50.00" in outcome.problems[1].reason
    assert balances(ledger, STRIPE_CLEARING, PROCESSING_FEES, CASH) == {
        STRIPE_CLEARING: -2930 - 92070, PROCESSING_FEES: 2930, CASH: 92070,
    }


def test_refund_larger_than_the_invoice(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    stripe = StripeBalance()
    payout = stripe.pay_out("po_1", 97070 - 1200 * D, [
        charge("txn_a", "in_a", 1000 * D, 2930, "po_1"), refund("txn_r", "in_a", 1200 * D, "po_1"),
    ], status="in_transit")
    outcome = reconcile_payout(stripe, LedgerCash(ledger), payout)
    [problem] = outcome.problems
    assert problem.subject == "txn_r" and "can't be credited to invoice in_a" in problem.reason
    assert balances(ledger, CUSTOMER_CREDIT, CREDITS_ALLOWANCES) == {
        CUSTOMER_CREDIT: 0, CREDITS_ALLOWANCES: 0,
    }
