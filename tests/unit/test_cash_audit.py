"""The cash run's exceptions, its crash safety, and the cash audit, on the embedded ledger."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sync.cash.audit import audit_cash
from sync.cash.run import on_dispute, open_exceptions, run_cash
from sync.connectors.ledger_cash import LedgerCash
from sync.ledger import Ledger
from sync.ledger.accounts import CASH, STRIPE_CLEARING
from sync.ports_cash import CLEARING, RECEIVABLE, CashDispute, CashPosting, Leg
from tests.unit.cashbooks import (
    DAY,
    D,
    StripeBalance,
    charge,
    dispute_out,
    entries,
    paid_invoice,
)


class WithBalance(StripeBalance):
    amounts: dict[str, int]

    def balance(self) -> dict[str, int]:
        return self.amounts


def test_unknown_charge_is_an_exception_until_its_invoice_is_posted(
    sessions: sessionmaker[Session],
) -> None:
    # po_1 settles in_a (1,000.00, fee 29.30) and in_b, which the ERP doesn't have yet
    # (2,500.00, fee 72.80): 3,397.90. in_b's fee is booked, its gross isn't: Clearing
    # = 1,000.00 - 102.10 - 3,397.90 = -2,500.00 and the audit names txn_b. Stripe's balance (0)
    # is Clearing plus that unbooked gross, so the balance check finds nothing else wrong.
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    stripe = WithBalance()
    stripe.amounts = {"USD": 0}
    stripe.pay_out("po_1", 339790, [
        charge("txn_a", "in_a", 1000 * D, 2930, "po_1"),
        charge("txn_b", "in_b", 2500 * D, 7280, "po_1"),
    ])
    run = run_cash(stripe, LedgerCash(ledger), sessions)
    assert (run.payouts, run.settled, run.transactions) == (1, 1, 2)
    [exc] = open_exceptions(sessions)
    assert exc.subject == "txn_b" and exc.payout_id == "po_1"
    assert "USD 2,500.00 is on no invoice closebot posted" in exc.reason
    findings = list(audit_cash(stripe, LedgerCash(ledger)))
    assert [(f.kind, f.subject, f.erp_minor) for f in findings] == [
        ("payout_not_settled", "po_1", -2500 * D),
    ]
    # Booked by hand wrongly (say 2,400.00 to Clearing): now the balance check speaks too.
    ledger.post_cash(CashPosting("manual:1", "by hand", DAY, "USD", "txn_b", (
        Leg(CLEARING, debit=2400 * D), Leg(RECEIVABLE, credit=2400 * D))))
    assert [(f.kind, f.stripe_minor, f.erp_minor) for f in audit_cash(stripe, LedgerCash(ledger))
            if f.kind == "clearing_vs_stripe_balance"] == [
        ("clearing_vs_stripe_balance", 0, 2400 * D)]
    ledger.post_cash(CashPosting("manual:2", "undo", DAY, "USD", "txn_b", (
        Leg(RECEIVABLE, debit=2400 * D), Leg(CLEARING, credit=2400 * D))))
    assert "not booked: txn_b" in findings[0].reason
    # The invoice is posted and paid; the next run finds nothing wrong and resolves it.
    paid_invoice(ledger, "in_b", 2500 * D)
    run_cash(stripe, LedgerCash(ledger), sessions)
    assert open_exceptions(sessions) == []
    assert list(audit_cash(stripe, LedgerCash(ledger))) == []


def test_dispute_lost_before_its_withdrawal_is_an_exception_then_resolves(
    sessions: sessionmaker[Session],
) -> None:
    ledger = Ledger(sessions)
    paid_invoice(ledger, "in_a", 1000 * D)
    stripe = StripeBalance()
    disputes = stripe.disputes_by_id
    disputes["dp_1"] = CashDispute("dp_1", "ch_a", "in_a", 1000 * D, "USD", "lost", DAY)
    assert [p.subject for p in on_dispute(stripe, LedgerCash(ledger), sessions, "dp_1",
                                          today=DAY)] == ["dp_1"]
    assert [e.subject for e in open_exceptions(sessions)] == ["dp_1"]
    out = dispute_out("txn_d", "in_a", 1000 * D, 1500, "po_2")
    disputes["dp_1"] = CashDispute("dp_1", "ch_a", "in_a", 1000 * D, "USD", "lost", DAY, (out,))
    assert on_dispute(stripe, LedgerCash(ledger), sessions, "dp_1", today=DAY) == []
    assert open_exceptions(sessions) == []


class CrashingLedger(LedgerCash):
    """The process dies once, right after a page of entries is committed, before the payout's
    own entry (which the page carries last)."""

    crashed = False

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        if self.crashed:
            return super().post_many(postings)
        super().post_many([p for p in postings if not p.external_id.startswith("stripe:po_")])
        if not self.crashed:
            self.crashed = True
            raise KeyboardInterrupt("killed")


def test_a_crash_mid_payout_then_a_restart_books_everything_once(
    sessions: sessionmaker[Session],
) -> None:
    # Two payouts (see the worked examples): po_1 settles in_a and in_b, 3,397.90; po_2 settles
    # in_c, 388.10. The first run dies after po_1's fee entries are committed, before its payout
    # entry; the restart books the payout and po_2, and nothing twice: 3 fees + 2 payouts.
    ledger = Ledger(sessions)
    for inv, amount in (("in_a", 1000 * D), ("in_b", 2500 * D), ("in_c", 400 * D)):
        paid_invoice(ledger, inv, amount)
    stripe = StripeBalance()
    stripe.pay_out("po_1", 339790, [charge("txn_a", "in_a", 1000 * D, 2930, "po_1"),
                                    charge("txn_b", "in_b", 2500 * D, 7280, "po_1")])
    stripe.pay_out("po_2", 38810, [charge("txn_c", "in_c", 400 * D, 1190, "po_2")])
    before = entries(sessions)
    with pytest.raises(KeyboardInterrupt):
        run_cash(stripe, CrashingLedger(ledger), sessions)
    assert entries(sessions) == before + 2
    run = run_cash(stripe, LedgerCash(ledger), sessions)
    assert (run.settled, run.problems) == (2, [])
    assert entries(sessions) == before + 5
    assert ledger.account_balance(STRIPE_CLEARING, "USD") == 0
    assert ledger.account_balance(CASH, "USD") == 3786 * D
