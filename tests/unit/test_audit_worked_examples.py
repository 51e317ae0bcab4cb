"""The money audit's arithmetic on books written out by hand, balance by balance (cents).

Billing (what a contract's versions bill over the term):
- Umbrella, 50 seats x $600 a quarter from 2026-01-15, `cancel_at` 2027-01-15, first quarter
  billed: still to bill Apr 15, Jul 15, Oct 15 = 3 x $30,000 = $90,000.
- Monthly $10,000 from 2026-01-01 cancelled at 2026-03-16: February in full ($10,000), March
  for 15 of its 31 days = $4,838.709… → $4,838.71; $14,838.71 still to bill.
- A 10-month term (2026-01-01 to 2026-10-31) billed annually: one $100,000 line for 2026-01-01
  to 2027-01-01 (365 days) bills 61 days after the contract's end: $16,712.328… → $16,712.33.
- Billed: $120,000 invoice, a void $30,000 invoice, a $6,000 concession approved in Slack and a
  $1,200 order-change credit note: billed $118,800, concessions $6,000. A $100,000 invoice with
  $8,875 tax: billed $100,000 (tax is not contract value).
Ledger, per obligation (a $100,000 subscription, 10 months of $10,000 from 2026-01-01):
- Decrease gone wrong: invoiced $30,000, recognized 10 x $10,000 = $100,000: deferred revenue
  is $30,000 - $100,000 = -$70,000, a $70,000 debit balance.
- Tax parked: invoice lines $100,000 + $8,875 "not itemized", both credited to deferred revenue:
  $108,875 deferred, $100,000 explained by the obligation, $8,875 belongs to none.
- Credit at once: $10,000 to contra revenue on 2026-01-11, earned by then $0: $10,000 unearned.
- Credit booked right, before delivery: Dr Deferred Revenue $10,000, schedule re-planned to 10 x
  $9,000 = $90,000 = price $100,000 - $10,000: no variance. After 3 months ($30,000 earned):
  $3,000 contra + $7,000 deferred, schedule 3 x $10,000 + 7 x $9,000 = $93,000 = $100,000 -
  $7,000: no variance. Credited to deferred revenue but not re-planned: schedule $100,000 ≠
  $90,000, a $10,000 variance.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sync.dates import add_months
from sync.ops.audit_billing import DealBilling, billed_after, still_to_bill
from sync.ops.audit_books import allocate, check_ledger
from sync.ops.audit_variance import Found
from sync.ports import (
    BilledCredit,
    BilledInvoice,
    BilledItem,
    BilledLine,
    BilledSubscription,
    LedgerBooks,
    PostedCredit,
    PostedInvoice,
    Posting,
    ScheduledObligation,
)

K = 100_000  # $1,000.00 in cents
START = date(2026, 1, 1)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def subscription(anchor: date, months: int, current_end: date, cancel: date, unit: int,
                 quantity: int) -> BilledSubscription:
    return BilledSubscription(
        id="sub_1", customer_id="cus_1", opportunity_id="006A", contract_version=1,
        key="closebot:006A:v1:bill", status="active", currency="USD", interval_months=months,
        anchor=at(anchor), current_period_end=at(current_end), cancel_at=at(cancel),
        items=(BilledItem("Platform Seats", unit, quantity),))


def invoice(inv_id: str, total: int, *, status: str = "open", tax: int = 0,
            lines: tuple[BilledLine, ...] = ()) -> BilledInvoice:
    return BilledInvoice(
        id=inv_id, number=None, customer_id="cus_1", opportunity_id="006A", contract_version=1,
        subscription_id="sub_1", key=None, currency="USD", status=status, total_minor=total,
        tax_minor=tax, amount_remaining_minor=total, issued_at=at(START), lines=lines)


def credit(note_id: str, amount: int, key: str | None) -> BilledCredit:
    return BilledCredit(note_id, "in_1", amount, "USD", "issued", key, at(START))


def test_quarterly_subscription_still_bills_three_quarters() -> None:
    sub = subscription(date(2026, 1, 15), 3, date(2026, 4, 15), date(2027, 1, 15), 60_000, 50)
    periods = still_to_bill(sub, None)
    assert [(p[0].date(), p[2]) for p in periods] == [
        (date(2026, 4, 15), 30 * K), (date(2026, 7, 15), 30 * K), (date(2026, 10, 15), 30 * K)]
    assert DealBilling(subscriptions=[sub]).scheduled(None) == 90 * K


def test_a_cancel_inside_a_period_bills_it_pro_rata() -> None:
    sub = subscription(START, 1, date(2026, 2, 1), date(2026, 3, 16), 10 * K, 1)
    assert [p[2] for p in still_to_bill(sub, None)] == [10 * K, 483_871]
    assert DealBilling(subscriptions=[sub]).scheduled(None) == 1_483_871


def test_service_billed_past_a_ten_month_term() -> None:
    line = BilledLine("Platform Subscription", 100 * K, True, at(START),
                      at(add_months(START, 12)))
    deal = DealBilling(invoices=[invoice("in_1", 100 * K, lines=(line,))])
    assert billed_after(deal, at(date(2026, 10, 31) + timedelta(days=1))) == 1_671_233


def test_billed_is_net_of_voids_and_order_credits_and_leaves_out_tax_and_concessions() -> None:
    deal = DealBilling(
        invoices=[invoice("in_1", 120 * K), invoice("in_2", 30 * K, status="void")],
        credits=[credit("cn_1", 6 * K, "closebot:credit:7"), credit("cn_2", 120_000, None)])
    assert (deal.billed, deal.concessions) == (118_800_00, 6 * K)
    assert DealBilling(invoices=[invoice("in_3", 108_875_00, tax=8_875_00)]).billed == 100 * K


def test_a_credit_is_spread_over_the_invoice_lines_to_the_cent() -> None:
    assert allocate(10 * K, [20 * K, 100 * K]) == [166_667, 833_333]
    assert allocate(5, [1, 1, 1]) == [2, 2, 1]
    assert allocate(7, [0, 0]) == [0, 0]


# --- the ledger per obligation ------------------------------------------------------------

ORDER = "006A:v1"
MONTH_ENDS = [add_months(START, i + 1) - timedelta(days=1) for i in range(10)]


def obligation(schedule: list[int], price: int = 100 * K) -> ScheduledObligation:
    rows = tuple((MONTH_ENDS[i], amount, False) for i, amount in enumerate(schedule))
    return ScheduledObligation(ORDER, "00kSUB", "Platform Subscription", True, price, "USD",
                               rows)


def post(role: str, amount: int, source: str, ref: str, *, day: date = START,
         line: str | None = None) -> Posting:
    return Posting(role, "USD", amount, day, source, ref, "in_1" if source != "revenue" else None,
                   ORDER, line)


def invoiced(*lines: tuple[str, int]) -> tuple[list[PostedInvoice], list[Posting]]:
    total = sum(amount for _, amount in lines)
    inv = PostedInvoice("in_1", "ACME-0001", total, total, "USD", 0, ORDER,
                        tuple((text, amount, True) for text, amount in lines))
    return [inv], [post("receivable", total, "invoice", "in_1"),
                   post("deferred_revenue", -total, "invoice", "in_1")]


def recognized(months: int, amount: int = 10 * K) -> list[Posting]:
    return [p for i in range(months) for p in (
        post("deferred_revenue", amount, "revenue", "00kSUB", day=MONTH_ENDS[i], line="00kSUB"),
        post("revenue", -amount, "revenue", "00kSUB", day=MONTH_ENDS[i], line="00kSUB"))]


def credited(amount: int, *, contra: int, on: date) -> tuple[list[PostedCredit], list[Posting]]:
    legs = [post("receivable", -amount, "credit_memo", "cn_1", day=on)]
    if contra:
        legs.append(post("contra_revenue", contra, "credit_memo", "cn_1", day=on))
    if amount - contra:
        legs.append(post("deferred_revenue", amount - contra, "credit_memo", "cn_1", day=on))
    return [PostedCredit("cn_1", amount, "USD", "in_1")], legs


def audit(obligations: list[ScheduledObligation], invoices: list[PostedInvoice],
          postings: list[Posting], credits: list[PostedCredit] | None = None
          ) -> list[tuple[str, int | None]]:
    found = Found()
    check_ledger(found, LedgerBooks(tuple(obligations), tuple(postings)), invoices,
                 credits or [], "the ledger", {"006A": "Acme"})
    return [(v.kind, v.difference_minor) for v in found.variances]


def test_recognizing_past_what_was_invoiced_leaves_deferred_revenue_in_debit() -> None:
    invoices, postings = invoiced(("1 x Platform Subscription (at $30,000.00 / quarter)", 30 * K))
    assert audit([obligation([10 * K] * 10)], invoices, postings + recognized(10)) == [
        ("deferred_revenue_debit", -70 * K), ("deferred_revenue_debit", -70 * K)]


def test_tax_in_deferred_revenue_belongs_to_no_obligation() -> None:
    invoices, postings = invoiced(("Platform Subscription", 100 * K),
                                  ("Not itemized by the biller", 8_875_00))
    assert audit([obligation([10 * K] * 10)], invoices, postings) == [
        ("deferred_revenue_unallocated", 8_875_00)]


def test_a_credit_to_revenue_before_anything_was_earned() -> None:
    invoices, postings = invoiced(("Platform Subscription", 100 * K))
    credits, legs = credited(10 * K, contra=10 * K, on=date(2026, 1, 11))
    assert audit([obligation([10 * K] * 10)], invoices, postings + legs, credits) == [
        ("credit_to_revenue_unearned", 10 * K)]


def test_credits_booked_against_deferred_revenue_and_replanned_pass() -> None:
    invoices, postings = invoiced(("Platform Subscription", 100 * K))
    before, legs = credited(10 * K, contra=0, on=date(2026, 1, 11))
    assert audit([obligation([9 * K] * 10)], invoices, postings + legs, before) == []
    after, legs = credited(10 * K, contra=3 * K, on=date(2026, 4, 1))
    replanned = obligation([10 * K] * 3 + [9 * K] * 7)
    assert audit([replanned], invoices, postings + recognized(3) + legs, after) == []


def test_a_credit_to_deferred_revenue_without_a_new_schedule() -> None:
    invoices, postings = invoiced(("Platform Subscription", 100 * K))
    credits, legs = credited(10 * K, contra=0, on=date(2026, 1, 11))
    assert audit([obligation([10 * K] * 10)], invoices, postings + legs, credits) == [
        ("schedule_not_replanned", 10 * K)]
