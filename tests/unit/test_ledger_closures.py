"""Textbook voids, write-offs and tax in the embedded ledger, entry by entry.

The seed deal (see test_ledger_worked_examples.py): $20K implementation delivered Feb 15, 2024
+ $100K subscription Jan-Oct 2024, one annual invoice on Jan 1 whose lines name the obligation
they bill (the subscription line for the period Jan 1, 2024 to Jan 1, 2025).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sync.ledger import InvoiceLineIn, Ledger, OverpaymentError
from sync.ledger.accounts import (
    BAD_DEBT_EXPENSE,
    DEFERRED_REVENUE,
    RECEIVABLE,
    SALES_TAX_PAYABLE,
    SERVICES_REVENUE,
    SUBSCRIPTION_REVENUE,
)
from tests.unit.test_ledger_worked_examples import K, assert_books_consistent, seed_deal

MARCH_END, APRIL_1 = date(2024, 3, 31), date(2024, 4, 1)


def invoice(ledger: Ledger, *, tax: int = 0) -> str:
    return ledger.post_invoice(
        external_id="in_1", customer_external_id="001ACME",
        sales_order_external_id="006DEAL:v1", number="ACME-0001", currency="USD",
        issued_on=date(2024, 1, 1), due_on=date(2024, 1, 31),
        lines=[
            InvoiceLineIn("Implementation", 20 * K, obligation="00kIMPL"),
            InvoiceLineIn("Platform subscription, annual", 100 * K, True, date(2024, 1, 1),
                          date(2025, 1, 1), tax_minor=tax, obligation="00kSUB"),
        ],
    )


def balances(ledger: Ledger) -> dict[str, int]:
    codes = {"AR": RECEIVABLE, "deferred": DEFERRED_REVENUE, "tax": SALES_TAX_PAYABLE,
             "subscription": SUBSCRIPTION_REVENUE, "services": SERVICES_REVENUE,
             "bad debt": BAD_DEBT_EXPENSE}
    return {name: ledger.account_balance(code, "USD") for name, code in codes.items()}


ZERO = {"AR": 0, "deferred": 0, "tax": 0, "subscription": 0, "services": 0, "bad debt": 0}


def test_tax_is_payable_never_deferred(sessions: sessionmaker[Session]) -> None:
    """Dr AR 128,875 / Cr Deferred 120,000 / Cr Sales Tax Payable 8,875; recognition releases
    the 120,000 and never the tax."""
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger, tax=8_875 * 100)
    assert balances(ledger) == {**ZERO, "AR": 128_875 * 100, "deferred": 120 * K,
                                "tax": 8_875 * 100}
    ledger.recognize_revenue(through=date(2024, 12, 31))
    assert balances(ledger) == {**ZERO, "AR": 128_875 * 100, "tax": 8_875 * 100,
                                "subscription": 100 * K, "services": 20 * K}
    assert_books_consistent(ledger)


def test_void_before_revenue_reverses_the_invoice_and_tax(
        sessions: sessionmaker[Session]) -> None:
    """Dr Deferred 120,000, Dr Sales Tax Payable 8,875 / Cr AR 128,875; nothing left to
    recognize; a second void with the same key posts nothing."""
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger, tax=8_875 * 100)
    number = ledger.close_invoice(external_id="in_1:void", invoice_external_id="in_1",
                                  kind="void", posted_on=date(2024, 1, 5))
    assert number == "CL-000001"
    assert balances(ledger) == ZERO
    assert ledger.close_invoice(external_id="in_1:void", invoice_external_id="in_1",
                                kind="void", posted_on=date(2024, 1, 6)) == number
    assert ledger.recognize_revenue(through=date(2025, 12, 31)) == 0
    view = ledger.invoice("in_1")
    assert view is not None and (view.status, view.open_minor, view.closed_minor) == (
        "void", 0, 128_875 * 100)
    assert ledger.ar_open_by_invoice() == {}
    assert_books_consistent(ledger)


def test_void_after_three_months_reverses_recognized_revenue(
        sessions: sessionmaker[Session]) -> None:
    """Recognized through March: 30,000 subscription + 20,000 implementation. The void:
    Dr Deferred 70,000, Dr Subscription 30,000, Dr Services 20,000 / Cr AR 120,000."""
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    assert ledger.recognize_revenue(through=MARCH_END) == 4
    ledger.close_invoice(external_id="in_1:void", invoice_external_id="in_1", kind="void",
                         posted_on=APRIL_1)
    assert balances(ledger) == ZERO
    assert ledger.recognize_revenue(through=date(2025, 12, 31)) == 0
    assert_books_consistent(ledger)


def test_write_off_then_void_turns_bad_debt_into_a_revenue_reversal(
        sessions: sessionmaker[Session]) -> None:
    """Written off on April 1: Dr Bad Debt 50,000, Dr Deferred 70,000 / Cr AR 120,000 (revenue
    stays 50,000). A payment after that is a recovery for a person, not a posting. Voided later:
    Dr Subscription 30,000, Dr Services 20,000 / Cr Bad Debt 50,000, so nothing is left."""
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    ledger.recognize_revenue(through=MARCH_END)
    ledger.close_invoice(external_id="in_1:uncollectible", invoice_external_id="in_1",
                         kind="uncollectible", posted_on=APRIL_1)
    written_off = {**ZERO, "subscription": 30 * K, "services": 20 * K, "bad debt": 50 * K}
    assert balances(ledger) == written_off
    assert ledger.recognize_revenue(through=date(2025, 12, 31)) == 0
    assert balances(ledger) == written_off
    view = ledger.invoice("in_1")
    assert view is not None and view.status == "uncollectible"
    with pytest.raises(OverpaymentError, match="written off; book the recovery by hand"):
        ledger.apply_payment(external_id="py_late", invoice_external_id="in_1",
                             amount_minor=120 * K, currency="USD", paid_on=date(2024, 4, 20))
    ledger.close_invoice(external_id="in_1:void", invoice_external_id="in_1", kind="void",
                         posted_on=date(2024, 5, 1))
    assert balances(ledger) == ZERO
    assert_books_consistent(ledger)


def test_write_off_after_a_part_payment_closes_the_unearned_part_first(
        sessions: sessionmaker[Session]) -> None:
    """60,000 paid, 50,000 earned by April 1, the rest (60,000) written off. Cash paid for what
    was earned first, so the whole open balance is unearned: Dr Deferred 60,000 / Cr AR 60,000,
    no bad debt. The 10,000 paid for months never delivered stays in deferred revenue (a
    liability to the customer a person settles); the schedule stops."""
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    ledger.apply_payment(external_id="py_1", invoice_external_id="in_1", amount_minor=60 * K,
                         currency="USD", paid_on=date(2024, 2, 1))
    ledger.recognize_revenue(through=MARCH_END)
    ledger.close_invoice(external_id="in_1:uncollectible", invoice_external_id="in_1",
                         kind="uncollectible", posted_on=APRIL_1)
    assert balances(ledger) == {**ZERO, "deferred": 10 * K, "subscription": 30 * K,
                                "services": 20 * K}
    assert ledger.recognize_revenue(through=date(2025, 12, 31)) == 0
    assert_books_consistent(ledger)
