"""A credit booked days after its own date, once revenue for the days after it was recognized:
split as of the credit's date, worked by hand to the cent; the audit agrees.

The deal: Platform Subscription $12,000, 1 January - 31 December 2026, 12 rows of 100,000
(each recognized on its month's last day); invoiced 1,200,000 on 1 January, unpaid. Revenue is
recognized through 1 April (January, February, March: 300,000). Then a credit dated 30 March
arrives (Stripe's credit note of that day, read late). On 30 March, January and February were
earned (200,000); March to December (1,000,000) were still deferred.

Half credit, 600,000 dated 30 March:
  credit   30 Mar  Dr Deferred Revenue 600,000 / Cr AR 600,000 (no contra: 600,000 <= 1,000,000)
  rows     March-December 1,000,000 -> 400,000: 40,000 each
  March    recognized 100,000 on 31 March, now 40,000: 60,000 taken back, dated 31 March:
           Dr Subscription Revenue 60,000 / Cr Deferred Revenue 60,000
  revenue  January 100,000, February 100,000, March 100,000 - 60,000 = 40,000: 240,000
  deferred 1,200,000 - 300,000 - 600,000 + 60,000 = 360,000 = 9 rows x 40,000
  AR       600,000; at year end revenue 240,000 + 360,000 = 600,000 = 1,200,000 - 600,000

Full credit, 1,200,000 dated 30 March:
  credit   30 Mar  Dr Deferred Revenue 1,000,000, Dr Credits & Allowances 200,000 / Cr AR
           1,200,000 (contra: only what was earned by 30 March)
  March    100,000 recognized on 31 March, taken back on 31 March
  revenue  200,000 - contra 200,000 = 0; March's revenue 0; deferred 0; AR 0

An implementation earned on day one beside it (Implementation 100,000, point in time on
1 January, invoiced with the subscription: 1,300,000), refunded in full on 3 January:
  credit   3 Jan   Dr Deferred Revenue 1,200,000 (the subscription: nothing earned yet),
                   Dr Credits & Allowances 100,000 (the implementation, earned) / Cr AR 1,300,000
  revenue  Services 100,000 - contra 100,000 = 0; deferred 0
The contra belongs to the implementation, the one obligation that had earned anything; spread
over the invoice's lines by amount, the audit put 92,307.69 of it on the subscription, which
had earned nothing, and reported it as `credit_to_revenue_unearned`.

A billing period whose months plan a cent more than its bill: Platform Subscription $65,000 over
the year (12 months: 8 of 541,667 and 4 of 541,666) billed quarterly, 1,625,000 for January to
March, whose rows plan 1,625,001; and Onboarding 580,000 (point in time, 1 January, recognized).
Invoiced 2,205,000 on 1 January, refunded in full on 3 January:
  credit   3 Jan   Dr Deferred Revenue 1,625,000 (what the quarter's bill booked; not 1,625,001),
                   Dr Credits & Allowances 580,000 / Cr AR 2,205,000
  deferred 2,205,000 - 580,000 recognized - 1,625,000 = 0 (before: a debit balance of 0.01)
  rows     January to March keep the 1 cent the next quarter's bill will book: 1, 0, 0

Before, the ledger split a late credit by what it had recognized when it booked it: the full
credit took 300,000 to contra revenue (100,000 of it March's, not earned on 30 March, the
audit's `credit_to_revenue_unearned`), and the half credit left March's revenue whole.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.ledger import LedgerRevenueSchedule
from sync.ledger import InvoiceLineIn, Ledger, SalesOrderLineIn, audit_view
from sync.ledger.accounts import (
    CREDITS_ALLOWANCES,
    DEFERRED_REVENUE,
    RECEIVABLE,
    SERVICES_REVENUE,
    SUBSCRIPTION_REVENUE,
)
from sync.ledger.books import trial_balances
from sync.ops.audit_books import check_ledger
from sync.ops.audit_variance import Found

JAN_1, DEC_31 = date(2026, 1, 1), date(2026, 12, 31)
MARCH_30, MARCH_31 = date(2026, 3, 30), date(2026, 3, 31)
SUB, IMPL = "Platform Subscription", "Implementation"


def _booked(ledger: Ledger) -> None:
    ledger.upsert_customer(external_id="001ACME", name="Acme", currency="USD")
    ledger.upsert_sales_order(
        external_id="006DEAL:v1", customer_external_id="001ACME", currency="USD",
        lines=[SalesOrderLineIn("L1", SUB, 1_200_000, True, JAN_1, DEC_31, "ratable")])
    ledger.post_invoice(
        external_id="in_1", customer_external_id="001ACME", sales_order_external_id="006DEAL:v1",
        number="ACME-0001", currency="USD", issued_on=JAN_1, due_on=JAN_1,
        lines=[InvoiceLineIn(SUB, 1_200_000, True, JAN_1, date(2027, 1, 1), obligation="L1")])
    assert ledger.recognize_revenue(through=date(2026, 4, 1)) == 3


def _with_implementation(ledger: Ledger) -> None:
    ledger.upsert_customer(external_id="001ACME", name="Acme", currency="USD")
    ledger.upsert_sales_order(
        external_id="006DEAL:v1", customer_external_id="001ACME", currency="USD",
        lines=[SalesOrderLineIn("L0", IMPL, 100_000, False, JAN_1, JAN_1, "point_in_time"),
               SalesOrderLineIn("L1", SUB, 1_200_000, True, JAN_1, DEC_31, "ratable")])
    ledger.post_invoice(
        external_id="in_1", customer_external_id="001ACME", sales_order_external_id="006DEAL:v1",
        number="ACME-0001", currency="USD", issued_on=JAN_1, due_on=JAN_1,
        lines=[InvoiceLineIn(IMPL, 100_000, obligation="L0"),
               InvoiceLineIn(SUB, 1_200_000, True, JAN_1, date(2027, 1, 1), obligation="L1")])
    assert ledger.recognize_revenue(through=date(2026, 1, 2)) == 1


def _late_credit(ledger: Ledger, amount: int) -> None:
    ledger.post_credit_memo(external_id="cn_1", invoice_external_id="in_1",
                            amount_minor=amount, currency="USD", reason="refund",
                            posted_on=MARCH_30)


def _balances(sessions: sessionmaker[Session], as_of: date) -> dict[str, int]:
    """Debit-positive balances of the USD accounts on `as_of`."""
    with sessions() as s:
        books = {tb.currency: tb for tb in trial_balances(s, as_of=as_of)}
    return {a.code: a.debit_minor - a.credit_minor for a in books["USD"].accounts}


def _audit(sessions: sessionmaker[Session]) -> list[str]:
    found = Found()
    with sessions() as s:
        check_ledger(found, audit_view.books(s), audit_view.posted_invoices(s),
                     audit_view.posted_credits(s), "closebot ledger", {})
    return [v.kind for v in found.variances]


def _rows(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as s:
        return list(s.scalars(select(LedgerRevenueSchedule.amount_minor)
                              .order_by(LedgerRevenueSchedule.sales_order_line_id,
                                        LedgerRevenueSchedule.period_no)))


def test_a_half_credit_booked_late_takes_back_the_month_recognized_after_it(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    _booked(ledger)
    _late_credit(ledger, 600_000)

    assert _rows(sessions) == [100_000, 100_000] + [40_000] * 10
    on_30th = _balances(sessions, MARCH_30)
    assert on_30th[DEFERRED_REVENUE] == -(1_200_000 - 200_000 - 600_000)
    assert on_30th[RECEIVABLE] == 600_000
    end_of_march = _balances(sessions, MARCH_31)
    assert end_of_march[SUBSCRIPTION_REVENUE] == -240_000
    assert end_of_march[DEFERRED_REVENUE] == -360_000
    assert CREDITS_ALLOWANCES not in end_of_march
    assert _audit(sessions) == []

    # Re-booking the same credit (a replay) moves nothing.
    _late_credit(ledger, 600_000)
    assert _balances(sessions, MARCH_31) == end_of_march

    ledger.recognize_revenue(through=DEC_31)
    year = _balances(sessions, DEC_31)
    assert year[SUBSCRIPTION_REVENUE] == -600_000
    assert DEFERRED_REVENUE not in year
    assert _audit(sessions) == []


def test_a_full_refund_booked_late_is_contra_only_for_what_was_earned_by_its_date(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    _booked(ledger)
    _late_credit(ledger, 1_200_000)

    assert _rows(sessions) == [100_000, 100_000] + [0] * 10
    on_30th = _balances(sessions, MARCH_30)
    assert on_30th[CREDITS_ALLOWANCES] == 200_000
    assert DEFERRED_REVENUE not in on_30th and RECEIVABLE not in on_30th
    end_of_march = _balances(sessions, MARCH_31)
    assert end_of_march[SUBSCRIPTION_REVENUE] == -200_000
    assert end_of_march[CREDITS_ALLOWANCES] == 200_000
    assert DEFERRED_REVENUE not in end_of_march and RECEIVABLE not in end_of_march
    assert _audit(sessions) == []
    assert ledger.recognize_revenue(through=DEC_31) == 0


def test_a_refund_is_contra_only_for_the_obligation_that_earned_something(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    _with_implementation(ledger)
    ledger.post_credit_memo(external_id="cn_1", invoice_external_id="in_1",
                            amount_minor=1_300_000, currency="USD", reason="refund",
                            posted_on=date(2026, 1, 3))

    books = _balances(sessions, date(2026, 1, 3))
    assert books[SERVICES_REVENUE] == -100_000 and books[CREDITS_ALLOWANCES] == 100_000
    assert DEFERRED_REVENUE not in books and RECEIVABLE not in books
    assert _audit(sessions) == []


def test_a_refund_takes_back_no_more_than_the_bill_booked(
        sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    ledger.upsert_customer(external_id="001ACME", name="Acme", currency="USD")
    ledger.upsert_sales_order(
        external_id="006DEAL:v1", customer_external_id="001ACME", currency="USD",
        lines=[SalesOrderLineIn("L0", "Onboarding", 580_000, False, JAN_1, JAN_1,
                                "point_in_time"),
               SalesOrderLineIn("L1", SUB, 6_500_000, True, JAN_1, DEC_31, "ratable")])
    ledger.post_invoice(
        external_id="in_1", customer_external_id="001ACME", sales_order_external_id="006DEAL:v1",
        number="ACME-0001", currency="USD", issued_on=JAN_1, due_on=JAN_1,
        lines=[InvoiceLineIn("Onboarding", 580_000, obligation="L0"),
               InvoiceLineIn(SUB, 1_625_000, True, JAN_1, date(2026, 4, 1), obligation="L1")])
    assert ledger.recognize_revenue(through=date(2026, 1, 2)) == 1
    ledger.post_credit_memo(external_id="cn_1", invoice_external_id="in_1",
                            amount_minor=2_205_000, currency="USD", reason="refund",
                            posted_on=date(2026, 1, 3))

    books = _balances(sessions, date(2026, 1, 3))
    assert books[CREDITS_ALLOWANCES] == 580_000
    assert DEFERRED_REVENUE not in books and RECEIVABLE not in books
    assert _rows(sessions)[:4] == [580_000, 1, 0, 0]
    assert _audit(sessions) == []
