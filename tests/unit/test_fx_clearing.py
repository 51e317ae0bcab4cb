"""A EUR charge paid out to the bank two days later at another rate, in a USD ledger.

Rates (EUR/USD): Monday 2026-03-02 1.0850, Wednesday 2026-03-04 1.0900.
- 2026-03-02: invoice EUR 1,000.00 issued and paid by card the same day: Dr AR / Cr Deferred
  Revenue USD 1,085.00; Dr Stripe Clearing / Cr AR USD 1,085.00 (no FX: same day, same rate).
- 2026-03-02: Stripe keeps a fee of EUR 29.25 on the charge, at its own day's rate:
  29.25 x 1.0850 = 31.73625 -> Dr Payment Processing Fees / Cr Stripe Clearing USD 31.74.
  Clearing now holds EUR 970.75, carried at USD 1,085.00 - 31.74 = 1,053.26.
- 2026-03-04: payout of EUR 970.75 at 1.0900: the bank receives 970.75 x 1.0900 = 1,058.1175
  -> Dr Cash USD 1,058.12; Clearing relieved at what it carries, Cr USD 1,053.26; the
  difference 1,058.12 - 1,053.26 = 4.86 is a realized FX gain (Cr Realized FX Gain/Loss).
USD trial balance: Cash 1,058.12 Dr + Fees 31.74 Dr = Deferred 1,085.00 Cr + FX gain 4.86 Cr
(1,089.86 each side); Clearing 0 and AR 0. At the payout day's rate for Clearing instead, the
payout would take 1,058.12 out of 1,053.26 and leave Clearing at USD 4.86 Cr.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import Base, transaction
from sync.cash.payouts import payout_posting
from sync.cash.postings import for_transaction
from sync.ledger import InvoiceLineIn, Ledger, SalesOrderLineIn
from sync.ledger.accounts import (
    CASH,
    DEFERRED_REVENUE,
    PROCESSING_FEES,
    REALIZED_FX,
    STRIPE_CLEARING,
)
from sync.ledger.fx_rates import parse, store
from sync.ports_cash import CHARGE, BalanceTxn, CashPayout

RATES = """date,base,quote,rate
2026-03-02,EUR,USD,1.0850
2026-03-04,EUR,USD,1.0900
"""
CHARGE_TXN = BalanceTxn(id="txn_ch_1", category=CHARGE, amount_minor=100_000, fee_minor=2_925,
                        net_minor=97_075, currency="EUR", created_on=date(2026, 3, 2),
                        source_id="ch_1", invoice_id="in_eur", payout_id="po_1")
PAYOUT = CashPayout(id="po_1", amount_minor=97_075, currency="EUR",
                    arrival_on=date(2026, 3, 4), status="paid")
AFTER_PAYOUT = {CASH: 105_812, PROCESSING_FEES: 3_174, DEFERRED_REVENUE: -108_500,
                REALIZED_FX: -486}


def paid_invoice(sessions: sessionmaker[Session]) -> Ledger:
    with transaction(sessions) as session:
        store(session, parse(RATES), source="rates.csv")
    ledger = Ledger(sessions, functional_currency="USD")
    ledger.upsert_customer(external_id="001KLEIN", name="Klein GmbH", currency="EUR")
    ledger.upsert_sales_order(
        external_id="006EUR:v1", customer_external_id="001KLEIN", currency="EUR",
        lines=[SalesOrderLineIn("00kSUB", "Platform subscription", 100_000, True,
                                date(2026, 3, 1), date(2027, 2, 28), "ratable")])
    ledger.post_invoice(
        external_id="in_eur", customer_external_id="001KLEIN",
        sales_order_external_id="006EUR:v1", number="KLEIN-0002", currency="EUR",
        issued_on=date(2026, 3, 2), due_on=date(2026, 4, 1),
        lines=[InvoiceLineIn("Platform subscription, annual", 100_000, True)])
    ledger.apply_payment(external_id="ch_1", invoice_external_id="in_eur",
                         amount_minor=100_000, currency="EUR", paid_on=date(2026, 3, 2))
    return ledger


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables if t.name.startswith("ledger_")}


def test_a_payout_leaves_nothing_in_clearing_and_realizes_the_difference(
        sessions: sessionmaker[Session]) -> None:
    ledger = paid_invoice(sessions)
    fee = for_transaction(CHARGE_TXN)
    assert fee is not None
    ledger.post_cash(fee)
    assert ledger.functional_trial_balance()[STRIPE_CLEARING] == 105_326
    ledger.post_cash(payout_posting(PAYOUT))

    assert ledger.functional_trial_balance() == AFTER_PAYOUT
    assert ledger.trial_balance("EUR")[STRIPE_CLEARING] == 0
    # A replay of the fee and the payout posts nothing, in either currency.
    before = row_counts(sessions)
    ledger.post_cash(fee)
    ledger.post_cash(payout_posting(PAYOUT))
    assert row_counts(sessions) == before


def test_a_payout_posted_with_what_it_sweeps_comes_after_it(
        sessions: sessionmaker[Session]) -> None:
    """The cash run posts a page of entries at once: the payout relieves Clearing after the fee
    in the same page is in it, so the figures are the same as one by one."""
    ledger = paid_invoice(sessions)
    fee = for_transaction(CHARGE_TXN)
    assert fee is not None
    assert ledger.post_cash_many([payout_posting(PAYOUT), fee]) == 2
    assert ledger.functional_trial_balance() == AFTER_PAYOUT
    assert ledger.post_cash_many([payout_posting(PAYOUT), fee]) == 0
