"""A EUR contract booked by a USD company: the embedded ledger in its functional currency.

Rates (the ECB's, USD per EUR): 2026-01-02 1.0850, 2026-01-30 1.1000, 2026-02-27 1.0800.
The deal: EUR 12,000.00 platform subscription, 2026-01-01 to 2026-12-31, recognized ratably
(EUR 1,000.00 a month), one invoice up front on 2026-01-02.

Worked by hand (USD):
- Invoice 2026-01-02 at 1.0850: Dr AR 13,020.00 / Cr Deferred Revenue 13,020.00.
- January released at the invoice's rate (deferred revenue leaves at the rate it came in at):
  EUR 1,000.00 x 1.0850 = Dr Deferred 1,085.00 / Cr Subscription Revenue 1,085.00.
- Paid in full on Sunday 2026-02-01: the day's rate is Friday's 1.1000, so Stripe Clearing
  receives 13,200.00; AR is relieved at the invoice's 13,020.00; the 180.00 difference is a
  realized FX gain (Cr Realized FX Gain/Loss 180.00).
- February released at 1.0850 again (not 2026-02-27's 1.0800): another 1,085.00.
Trial balance in USD: Clearing 13,200.00 Dr; AR 0; Deferred 13,020.00 - 2,170.00 = 10,850.00
Cr; Revenue 2,170.00 Cr; FX gain 180.00 Cr. 13,200.00 - 10,850.00 - 2,170.00 - 180.00 = 0.
In EUR the books are as without FX: Clearing 12,000.00, Deferred 10,000.00, Revenue 2,000.00.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import Base, transaction
from storage.ledger import LedgerJournalEntry as JournalEntry
from sync.ledger import InvoiceLineIn, Ledger, SalesOrderLineIn, fx
from sync.ledger.accounts import (
    DEFERRED_REVENUE,
    REALIZED_FX,
    RECEIVABLE,
    STRIPE_CLEARING,
    SUBSCRIPTION_REVENUE,
)
from sync.ledger.fx_rates import FxRateMissingError, parse, store

RATES = """Date,USD,JPY,GBP,
2026-02-27,1.0800,N/A,0.8400,
2026-01-30,1.1000,162.10,0.8500,
2026-01-02,1.0850,161.50,0.8600,
"""


def load_rates(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        store(session, parse(RATES), source="eurofxref-hist.csv")


def book_deal(ledger: Ledger, *, total: int = 1_200_000, issued_on: date = date(2026, 1, 2),
              invoice_id: str = "in_eur") -> None:
    ledger.upsert_customer(external_id="001KLEIN", name="Klein GmbH", currency="EUR")
    ledger.upsert_sales_order(
        external_id="006EUR:v1", customer_external_id="001KLEIN", currency="EUR",
        lines=[SalesOrderLineIn("00kSUB", "Platform subscription", total, True,
                                date(2026, 1, 1), date(2026, 12, 31), "ratable")])
    ledger.post_invoice(
        external_id=invoice_id, customer_external_id="001KLEIN",
        sales_order_external_id="006EUR:v1", number="KLEIN-0001", currency="EUR",
        issued_on=issued_on, due_on=date(2026, 2, 1),
        lines=[InvoiceLineIn("Platform subscription, annual", total, True)])


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables if t.name.startswith("ledger_")}


def test_eur_contract_posted_in_usd_with_an_fx_gain_on_payment(
        sessions: sessionmaker[Session]) -> None:
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger)
    assert ledger.functional_trial_balance() == {RECEIVABLE: 1_302_000,
                                                 DEFERRED_REVENUE: -1_302_000}
    ledger.recognize_revenue(through=date(2026, 1, 31))
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_eur",
                         amount_minor=1_200_000, currency="EUR", paid_on=date(2026, 2, 1))
    ledger.recognize_revenue(through=date(2026, 2, 28))

    assert ledger.functional_trial_balance() == {
        STRIPE_CLEARING: 1_320_000,
        DEFERRED_REVENUE: -1_085_000,
        SUBSCRIPTION_REVENUE: -217_000,
        REALIZED_FX: -18_000,
    }
    assert ledger.trial_balance("EUR") == {
        RECEIVABLE: 0, STRIPE_CLEARING: 1_200_000, DEFERRED_REVENUE: -1_000_000,
        SUBSCRIPTION_REVENUE: -200_000,
    }
    # As `closebot books trial-balance --functional` shows it: one book, in USD, balanced;
    # on 2026-01-31 (before the payment) no FX yet.
    with sessions() as session:
        (book,) = fx.trial_balances(session, as_of=date(2026, 2, 28))
        (january,) = fx.trial_balances(session, as_of=date(2026, 1, 31))
    assert (book.currency, book.debits, book.credits) == ("USD", 1_320_000, 1_320_000)
    assert REALIZED_FX not in {a.code for a in january.accounts}
    assert (january.debits, january.credits) == (1_302_000, 1_302_000)
    # A replay of the payment and of recognition posts nothing, in either currency.
    before = row_counts(sessions)
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_eur",
                         amount_minor=1_200_000, currency="EUR", paid_on=date(2026, 2, 1))
    ledger.recognize_revenue(through=date(2026, 2, 28))
    assert row_counts(sessions) == before


def test_payments_in_parts_relieve_exactly_what_the_invoice_booked(
        sessions: sessionmaker[Session]) -> None:
    """EUR 1,000.01 invoiced at 1.0850 = USD 1,085.01 (1,085.01085 rounded). Paid in two parts
    on Sunday 2026-03-01 at Friday's 1.0800: EUR 500.00 = USD 540.00 received, AR relieved
    542.50; then EUR 500.01 = USD 540.01 (540.0108) received, AR relieved 1,085.01 - 542.50 =
    542.51 (cumulative, so AR ends at exactly 0). Realized FX loss 2.50 + 2.50 = 5.00.
    Clearing 540.00 + 540.01 = 1,080.01 Dr; Deferred 1,085.01 Cr; loss 5.00 Dr: sums to 0."""
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger, total=100_001)
    for n, amount in enumerate((50_000, 50_001), start=1):
        ledger.apply_payment(external_id=f"py_{n}", invoice_external_id="in_eur",
                             amount_minor=amount, currency="EUR", paid_on=date(2026, 3, 1))
    trial = ledger.functional_trial_balance()
    assert RECEIVABLE not in trial  # nothing left in AR
    assert trial == {STRIPE_CLEARING: 108_001, DEFERRED_REVENUE: -108_501, REALIZED_FX: 500}
    assert sum(trial.values()) == 0


def test_a_missing_rate_posts_nothing(sessions: sessionmaker[Session]) -> None:
    """No EUR/USD rate for 2025-12-15 (nor in the week before): the invoice is refused naming
    the pair and the day; no entry, no invoice, in either currency."""
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    before = row_counts(sessions)
    with pytest.raises(FxRateMissingError) as refused:
        book_deal(ledger, issued_on=date(2025, 12, 15))
    assert "EUR/USD" in refused.value.reason and "2025-12-15" in refused.value.reason
    assert "closebot fx import" in refused.value.reason
    after = row_counts(sessions)
    assert after["ledger_invoices"] == before["ledger_invoices"] == 0
    assert after["ledger_journal_entries"] == 0 and after["ledger_functional_lines"] == 0

    # A payment three weeks past the last rate (2026-02-27) is refused the same way; the
    # invoice stays open and nothing of the payment is posted.
    book_deal(ledger, invoice_id="in_eur_2")
    with pytest.raises(FxRateMissingError, match="2026-03-20"):
        ledger.apply_payment(external_id="py_late", invoice_external_id="in_eur_2",
                             amount_minor=1_200_000, currency="EUR", paid_on=date(2026, 3, 20))
    view = ledger.invoice("in_eur_2")
    assert view is not None and view.open_minor == 1_200_000
    assert ledger.functional_trial_balance() == {RECEIVABLE: 1_302_000,
                                                 DEFERRED_REVENUE: -1_302_000}


def test_without_a_functional_currency_nothing_changes(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    book_deal(ledger, issued_on=date(2025, 12, 15))  # no rates loaded: none needed
    assert ledger.functional_trial_balance() == {}
    assert ledger.trial_balance("EUR") == {RECEIVABLE: 1_200_000, DEFERRED_REVENUE: -1_200_000}


def test_a_reversal_undoes_the_entry_at_its_own_rates(sessions: sessionmaker[Session]) -> None:
    """The invoice (USD 13,020.00 at 1.0850) reversed on 2026-01-30, a day at 1.1000: the
    mirror takes the original's rate, so nothing is left in either currency."""
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger)
    ledger.reverse_entry(entry_number="JE-000001", external_id="fix:1",
                         posted_on=date(2026, 1, 30), memo="issued in error")
    assert ledger.functional_trial_balance() == {}
    assert ledger.trial_balance("EUR") == {RECEIVABLE: 0, DEFERRED_REVENUE: 0}


def test_a_void_takes_back_what_the_invoice_booked_at_its_rate(
        sessions: sessionmaker[Session]) -> None:
    """Voided on 2026-01-30 (1.1000) before anything was released or paid: Dr Deferred
    Revenue / Cr AR at the invoice's 1.0850, USD 13,020.00 each, so nothing is left and no FX
    is booked (no cash moved)."""
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger)
    ledger.close_invoice(external_id="in_eur:void", invoice_external_id="in_eur", kind="void",
                         posted_on=date(2026, 1, 30))
    assert ledger.functional_trial_balance() == {}


def test_releases_add_back_to_what_the_invoice_deferred(sessions: sessionmaker[Session]) -> None:
    """EUR 1,000.00 for 2026, invoiced up front on 2026-01-02 at 1.0850: USD 1,085.00 deferred.
    The months are EUR 83.34 (January to April) and 83.33 (May to December). Rounded one month
    at a time they would be 4 x 90.42 + 8 x 90.41 = 1,084.96, leaving 0.04 in Deferred Revenue.
    Rounded cumulatively (EUR released so far x 1.0850, less what was released before):

    | month | EUR so far | x 1.0850  | USD so far | release |
    |---|---:|---:|---:|---:|
    | Jan | 83.34    | 90.42390   | 90.42    | 90.42 |
    | Feb | 166.68   | 180.84780  | 180.85   | 90.43 |
    | Mar | 250.02   | 271.27170  | 271.27   | 90.42 |
    | Apr | 333.36   | 361.69560  | 361.70   | 90.43 |
    | May | 416.69   | 452.10865  | 452.11   | 90.41 |
    | Jun | 500.02   | 542.52170  | 542.52   | 90.41 |
    | Jul | 583.35   | 632.93475  | 632.93   | 90.41 |
    | Aug | 666.68   | 723.34780  | 723.35   | 90.42 |
    | Sep | 750.01   | 813.76085  | 813.76   | 90.41 |
    | Oct | 833.34   | 904.17390  | 904.17   | 90.41 |
    | Nov | 916.67   | 994.58695  | 994.59   | 90.42 |
    | Dec | 1,000.00 | 1,085.00000 | 1,085.00 | 90.41 |

    Recognized in two runs (through June, then the rest) so the second picks up where the
    first stopped. Deferred Revenue ends at exactly 0 in USD; revenue 1,085.00 = the invoice."""
    load_rates(sessions)
    ledger = Ledger(sessions, functional_currency="USD")
    book_deal(ledger, total=100_000)
    ledger.recognize_revenue(through=date(2026, 6, 30))
    ledger.recognize_revenue(through=date(2026, 12, 31))

    assert ledger.functional_trial_balance() == {RECEIVABLE: 108_500,
                                                 SUBSCRIPTION_REVENUE: -108_500}
    with sessions() as session:
        releases = list(session.scalars(
            select(fx.LedgerFunctionalLine.debit_minor)
            .join(JournalEntry, JournalEntry.id == fx.LedgerFunctionalLine.entry_id)
            .where(JournalEntry.source_type == "revenue_schedule",
                   fx.LedgerFunctionalLine.account_code == DEFERRED_REVENUE)
            .order_by(JournalEntry.posted_on)))
    assert releases == [9042, 9043, 9042, 9043, 9041, 9041, 9041, 9042, 9041, 9041, 9042, 9041]
    before = row_counts(sessions)
    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert row_counts(sessions) == before


def test_releases_before_a_functional_currency_are_not_caught_up(
        sessions: sessionmaker[Session]) -> None:
    """The same EUR 1,000.00 booked and released through June with no functional currency;
    then USD is configured. July's release is July's own EUR 83.33 x 1.0850 (the invoice day's
    rate) = 90.41 (90.41305), not everything released since January: what was posted without
    a functional line counts in neither currency. July to December: EUR 499.98 x 1.0850 =
    542.478 -> USD 542.48 in all."""
    load_rates(sessions)
    book_deal(Ledger(sessions), total=100_000)
    Ledger(sessions).recognize_revenue(through=date(2026, 6, 30))
    ledger = Ledger(sessions, functional_currency="USD")
    ledger.recognize_revenue(through=date(2026, 7, 31))
    assert ledger.functional_trial_balance() == {DEFERRED_REVENUE: 9_041,
                                                 SUBSCRIPTION_REVENUE: -9_041}
    ledger.recognize_revenue(through=date(2026, 12, 31))
    assert ledger.functional_trial_balance() == {DEFERRED_REVENUE: 54_248,
                                                 SUBSCRIPTION_REVENUE: -54_248}
