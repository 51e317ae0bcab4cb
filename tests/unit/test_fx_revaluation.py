"""Month-end revaluation of open EUR balances in a USD ledger (ASC 830-20-35-2).

Rates (USD per EUR): Friday 2026-01-02 1.0850, Friday 2026-01-30 1.1000 (January's period-end
rate: Saturday the 31st takes it), Monday 2026-02-16 1.0900, Friday 2026-02-27 1.0800
(February's). The deal: EUR 12,000.00 subscription for 2026, invoiced up front on 2026-01-02
(`book_deal` of test_fx_ledger), EUR 1,000.00 recognized a month at the invoice's rate.

Worked by hand (USD), the invoice open at the end of January:
- Invoice at 1.0850: Dr AR 13,020.00 / Cr Deferred Revenue 13,020.00.
- January released: Dr Deferred 1,085.00 / Cr Subscription Revenue 1,085.00.
- Revaluation on 2026-01-31: EUR 12,000.00 x 1.1000 = 13,200.00, carried at 13,020.00:
  Dr AR 180.00 / Cr Unrealized FX Gain/Loss 180.00.
  Trial balance on 2026-01-31: AR 13,200.00 Dr = Deferred 11,935.00 + Revenue 1,085.00 +
  Unrealized 180.00 Cr (13,200.00 each side).
- Reversed on 2026-02-01: Dr Unrealized 180.00 / Cr AR 180.00; AR is 13,020.00 again.
- Paid on 2026-02-16 at 1.0900: Clearing 13,080.00; AR relieved 13,020.00; realized gain 60.00
  (13,080.00 - 13,020.00), as without revaluation. Unrealized nets to 0.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.cli_revenue import close_lines
from storage.db import transaction
from storage.ledger import LedgerJournalEntry as JournalEntry
from sync.ledger import Ledger, fx
from sync.ledger.accounts import (
    CUSTOMER_CREDIT,
    DEFERRED_REVENUE,
    REALIZED_FX,
    RECEIVABLE,
    STRIPE_CLEARING,
    SUBSCRIPTION_REVENUE,
    UNREALIZED_FX,
)
from sync.ledger.entity_books import trial_balances_by_entity
from sync.ledger.fx_rates import FxRateMissingError, parse, store
from sync.ops.month_end import report_lines
from tests.unit.test_fx_ledger import book_deal, row_counts

RATES = """date,base,quote,rate
2026-01-02,EUR,USD,1.0850
2026-01-30,EUR,USD,1.1000
2026-02-16,EUR,USD,1.0900
2026-02-27,EUR,USD,1.0800
"""


def ledger_with(sessions: sessionmaker[Session], rates: str = RATES) -> Ledger:
    with transaction(sessions) as session:
        store(session, parse(rates), source="rates.csv")
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger)
    return ledger


def functional_on(sessions: sessionmaker[Session], day: date) -> dict[str, int]:
    """The functional trial balance on `day`, debit-positive per account."""
    with sessions() as session:
        (book,) = fx.trial_balances(session, as_of=day)
    return {a.code: a.debit_minor - a.credit_minor for a in book.accounts}


def test_an_open_invoice_is_revalued_at_month_end_and_reversed_the_next_day(
        sessions: sessionmaker[Session]) -> None:
    ledger = ledger_with(sessions)
    report = ledger.close_period(period="2026-01", by="controller", today=date(2026, 2, 5))

    assert functional_on(sessions, date(2026, 1, 31)) == {
        RECEIVABLE: 1_320_000, DEFERRED_REVENUE: -1_193_500, SUBSCRIPTION_REVENUE: -108_500,
        UNREALIZED_FX: -18_000}
    # In EUR nothing moved: the revaluation is in the functional currency only.
    assert ledger.trial_balance("EUR") == {RECEIVABLE: 1_200_000, DEFERRED_REVENUE: -1_100_000,
                                           SUBSCRIPTION_REVENUE: -100_000}
    assert functional_on(sessions, date(2026, 2, 1)) == {
        RECEIVABLE: 1_302_000, DEFERRED_REVENUE: -1_193_500, SUBSCRIPTION_REVENUE: -108_500}
    (eur,) = report.revaluation
    assert (eur.currency, eur.functional, eur.rate, eur.balances, eur.gain) == (
        "EUR", "USD", Decimal("1.1"), 1, 18_000)
    assert ("FX revaluation of EUR balances at 31 Jan 2026 (EUR/USD 1.1): 1 balance, "
            "unrealized gain USD 180.00, reversed 01 Feb 2026") in close_lines(report)
    assert ("Unrealized FX on EUR balances at EUR/USD 1.1: gain USD 180.00 over 1 balance, "
            "reversed the next day.") in report_lines(report)  # the Slack close card

    # A re-run posts nothing and reports what the first run posted.
    before = row_counts(sessions)
    again = ledger.close_period(period="2026-01", by="controller", today=date(2026, 2, 5))
    assert row_counts(sessions) == before
    assert again.already_closed and again.revaluation == report.revaluation

    # Paid next month: the realized gain is from the invoice's historical rate, as ever.
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_eur",
                         amount_minor=1_200_000, currency="EUR", paid_on=date(2026, 2, 16))
    assert ledger.functional_trial_balance() == {
        STRIPE_CLEARING: 1_308_000, DEFERRED_REVENUE: -1_193_500,
        SUBSCRIPTION_REVENUE: -108_500, REALIZED_FX: -6_000}


def test_a_partly_paid_invoice_and_clearing_lose_when_the_euro_falls(
        sessions: sessionmaker[Session]) -> None:
    """January closed as above (gain 180.00 on AR, reversed 2026-02-01). EUR 5,000.00 paid on
    2026-02-16 at 1.0900: Clearing 5,450.00, AR relieved 5,000.00 x 1.0850 = 5,425.00,
    realized gain 25.00. February's close at 1.0800:
    - AR: EUR 7,000.00 open, carried 13,020.00 - 5,425.00 = 7,595.00, worth 7,560.00:
      loss 35.00 (Dr Unrealized 35.00 / Cr AR 35.00);
    - Clearing: EUR 5,000.00 held, carried 5,450.00, worth 5,400.00: loss 50.00.
    February's revaluation: loss 85.00 over 2 balances. Trial balance on 2026-02-28:
    AR 7,560.00 + Clearing 5,400.00 + Unrealized 85.00 Dr = 13,045.00 = Deferred 10,850.00
    (13,020.00 - 2 x 1,085.00) + Revenue 2,170.00 + Realized 25.00 Cr. On 2026-03-01 both
    are back at their carrying amounts (7,595.00 and 5,450.00), Unrealized at 0."""
    ledger = ledger_with(sessions)
    ledger.close_period(period="2026-01", by="controller", today=date(2026, 3, 5))
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_eur",
                         amount_minor=500_000, currency="EUR", paid_on=date(2026, 2, 16))
    report = ledger.close_period(period="2026-02", by="controller", today=date(2026, 3, 5))

    assert functional_on(sessions, date(2026, 2, 28)) == {
        RECEIVABLE: 756_000, STRIPE_CLEARING: 540_000, DEFERRED_REVENUE: -1_085_000,
        SUBSCRIPTION_REVENUE: -217_000, REALIZED_FX: -2_500, UNREALIZED_FX: 8_500}
    (eur,) = report.revaluation
    assert (eur.rate, eur.balances, eur.gain) == (Decimal("1.08"), 2, -8_500)
    assert functional_on(sessions, date(2026, 3, 1)) == {
        RECEIVABLE: 759_500, STRIPE_CLEARING: 545_000, DEFERRED_REVENUE: -1_085_000,
        SUBSCRIPTION_REVENUE: -217_000, REALIZED_FX: -2_500}
    assert ledger.trial_balance("EUR") == {
        RECEIVABLE: 700_000, STRIPE_CLEARING: 500_000, DEFERRED_REVENUE: -1_000_000,
        SUBSCRIPTION_REVENUE: -200_000}


def test_a_missing_period_end_rate_refuses_the_close(sessions: sessionmaker[Session]) -> None:
    """No EUR/USD rate for 2026-01-31 nor the 7 days before (only 2026-01-02's): the close is
    refused naming the pair and the day; no revenue, no revaluation, the period stays open."""
    ledger = ledger_with(sessions, rates="date,base,quote,rate\n2026-01-02,EUR,USD,1.0850\n")
    before = row_counts(sessions)
    with pytest.raises(FxRateMissingError) as refused:
        ledger.close_period(period="2026-01", by="controller", today=date(2026, 2, 5))
    assert "EUR/USD" in refused.value.reason and "2026-01-31" in refused.value.reason
    assert row_counts(sessions) == before
    assert not ledger.is_closed("2026-01")


def test_clearing_and_a_customer_credit_balance_are_revalued_per_currency(
        sessions: sessionmaker[Session]) -> None:
    """EUR 1,000.00 invoiced and paid on 2026-01-02 at 1.0850: Clearing 1,085.00, AR 0. A
    credit note of EUR 200.00 on 2026-01-20, nothing left to take from AR, is owed back at the
    invoice's rate: Cr Customer Credit Balances 217.00. January's close at 1.1000:
    - Clearing EUR 1,000.00, carried 1,085.00, worth 1,100.00: gain 15.00;
    - customer credit EUR 200.00 owed, carried 217.00, worth 220.00: loss 3.00.
    Net unrealized gain 12.00 over 2 balances; AR (0) is not revalued."""
    with transaction(sessions) as session:
        store(session, parse(RATES), source="rates.csv")
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger, total=100_000)
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_eur", amount_minor=100_000,
                         currency="EUR", paid_on=date(2026, 1, 2))
    ledger.post_credit_memo(external_id="cn_1", invoice_external_id="in_eur",
                            amount_minor=20_000, currency="EUR", reason="goodwill",
                            posted_on=date(2026, 1, 20))
    report = ledger.close_period(period="2026-01", by="controller", today=date(2026, 2, 5))

    (eur,) = report.revaluation
    assert (eur.balances, eur.gain) == (2, 1_200)
    at_end = functional_on(sessions, date(2026, 1, 31))
    assert (at_end[STRIPE_CLEARING], at_end[CUSTOMER_CREDIT], at_end[UNREALIZED_FX]) == (
        110_000, -22_000, -1_200)
    assert RECEIVABLE not in at_end
    after = functional_on(sessions, date(2026, 2, 1))
    assert (after[STRIPE_CLEARING], after[CUSTOMER_CREDIT]) == (108_500, -21_700)
    assert UNREALIZED_FX not in after
    with sessions() as session:
        memos = set(session.scalars(select(JournalEntry.memo).where(
            JournalEntry.source_type == "fx_revaluation")))
        # Nothing moved in EUR: the entity books hold the deal's entity only.
        books = trial_balances_by_entity(session, {"006EUR": "Klein DE"})
    assert list(books) == ["Klein DE"]
    assert memos == {
        "FX revaluation of Stripe Clearing at 31 Jan 2026: EUR 1,000.00 at 1.1 = USD 1,100.00, "
        "carried at USD 1,085.00: unrealized gain USD 15.00",
        "FX revaluation of Customer Credit Balances at 31 Jan 2026: EUR 200.00 at 1.1 = "
        "USD 220.00, carried at USD 217.00: unrealized loss USD 3.00"}


def test_balances_booked_before_a_functional_currency_are_left_as_booked(
        sessions: sessionmaker[Session]) -> None:
    """The invoice (and its payment of EUR 400.00 into Clearing) posted before
    FUNCTIONAL_CURRENCY was set have no USD carrying amount: the first close with it set
    revalues neither (it would otherwise book their whole value as an unrealized gain)."""
    with transaction(sessions) as session:
        store(session, parse(RATES), source="rates.csv")
    book_deal(Ledger(sessions))
    Ledger(sessions).apply_payment(external_id="py_1", invoice_external_id="in_eur",
                                   amount_minor=40_000, currency="EUR", paid_on=date(2026, 1, 2))
    ledger = Ledger(sessions, functional_currency="USD")
    report = ledger.close_period(period="2026-01", by="controller", today=date(2026, 2, 5))
    assert report.revaluation == ()
    assert UNREALIZED_FX not in ledger.functional_trial_balance()
