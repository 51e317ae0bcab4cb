"""Textbook scenarios for the embedded ledger, each checked entry by entry and balance by balance.

The seed deal: $120K = $20K implementation (one-time, recognized on delivery) + $100K platform
subscription ($10K a month for 10 months, recognized ratably), billed annually up front.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import Base
from storage.ledger import (
    LedgerCustomer,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.ledger import InvoiceLineIn, Ledger, OverpaymentError, SalesOrderLineIn
from sync.ledger.accounts import (
    CREDITS_ALLOWANCES,
    CUSTOMER_CREDIT,
    DEFERRED_REVENUE,
    RECEIVABLE,
    SERVICES_REVENUE,
    STRIPE_CLEARING,
    SUBSCRIPTION_REVENUE,
)

K = 100_000  # $1,000.00 in cents
DELIVERED = date(2024, 2, 15)


def seed_deal(ledger: Ledger) -> str:
    ledger.upsert_customer(external_id="001ACME", name="Acme Corp", currency="USD")
    return ledger.upsert_sales_order(
        external_id="006DEAL:v1",
        customer_external_id="001ACME",
        currency="USD",
        lines=[
            SalesOrderLineIn(
                "00kIMPL", "Implementation", 20 * K, False, DELIVERED, DELIVERED,
                "point_in_time",
            ),
            SalesOrderLineIn(
                "00kSUB", "Platform subscription", 100 * K, True, date(2024, 1, 1),
                date(2024, 10, 31), "ratable",
            ),
        ],
    )


def invoice(ledger: Ledger, external_id: str = "in_1", amount: int = 120 * K) -> str:
    return ledger.post_invoice(
        external_id=external_id, customer_external_id="001ACME",
        sales_order_external_id="006DEAL:v1", number="ACME-0001", currency="USD",
        issued_on=date(2024, 1, 1), due_on=date(2024, 1, 31),
        lines=[
            InvoiceLineIn("Implementation", 20 * K),
            InvoiceLineIn("Platform subscription, annual", amount - 20 * K, True),
        ],
    )


def assert_books_consistent(ledger: Ledger) -> None:
    assert ledger.unbalanced_entries() == []
    assert sum(ledger.trial_balance("USD").values()) == 0
    assert ledger.account_balance(RECEIVABLE, "USD") == sum(ledger.ar_open_by_invoice().values())


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name.startswith("ledger_")
        }


def test_120k_deal_two_obligations(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    assert seed_deal(ledger) == "SO-000001"
    with sessions() as s:
        order = s.scalar(select(LedgerSalesOrder))
        assert order is not None and order.total_minor == 120 * K and len(order.lines) == 2
        rows = s.execute(
            select(LedgerSalesOrderLine.external_id, LedgerRevenueSchedule)
            .join(LedgerSalesOrderLine)
            .order_by(LedgerRevenueSchedule.id)
        ).all()
    impl = [r for ext, r in rows if ext == "00kIMPL"]
    sub = [r for ext, r in rows if ext == "00kSUB"]
    assert [(r.recognize_on, r.amount_minor) for r in impl] == [(DELIVERED, 20 * K)]
    assert [r.amount_minor for r in sub] == [10 * K] * 10
    assert sub[0].recognize_on == date(2024, 1, 31) and sub[-1].recognize_on == date(2024, 10, 31)
    assert {r.revenue_account for r in sub} == {SUBSCRIPTION_REVENUE}

    assert invoice(ledger) == "INV-000001"
    # Billing recognizes nothing: it is all a receivable against deferred revenue.
    assert ledger.account_balance(RECEIVABLE, "USD") == 120 * K
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 120 * K
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 0

    # Through March: three subscription months plus the implementation delivered in February.
    assert ledger.recognize_revenue(through=date(2024, 3, 31)) == 4
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 30 * K
    assert ledger.account_balance(SERVICES_REVENUE, "USD") == 20 * K
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 70 * K
    assert ledger.recognize_revenue(through=date(2024, 3, 31)) == 0
    assert ledger.recognize_revenue(through=date(2024, 12, 31)) == 7
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 0
    assert ledger.account_balance(SUBSCRIPTION_REVENUE, "USD") == 100 * K
    assert_books_consistent(ledger)


def test_partial_payment_then_rest(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    assert ledger.apply_payment(
        external_id="py_1", invoice_external_id="in_1", amount_minor=50 * K, currency="USD",
        paid_on=date(2024, 1, 10),
    ) == "PMT-000001"
    view = ledger.invoice("in_1")
    assert view is not None and view.open_minor == 70 * K and view.status == "partially_paid"
    assert ledger.ar_open_by_invoice() == {"in_1": 70 * K}
    with pytest.raises(OverpaymentError, match=r"exceeds the open balance USD 70,000\.00"):
        ledger.apply_payment(
            external_id="py_2", invoice_external_id="in_1", amount_minor=70 * K + 1,
            currency="USD", paid_on=date(2024, 1, 20),
        )
    ledger.apply_payment(
        external_id="py_3", invoice_external_id="in_1", amount_minor=70 * K, currency="USD",
        paid_on=date(2024, 1, 20),
    )
    view = ledger.invoice("in_1")
    assert view is not None and view.open_minor == 0 and view.status == "paid"
    assert ledger.ar_open_by_invoice() == {}
    assert ledger.account_balance(RECEIVABLE, "USD") == 0
    assert ledger.account_balance(STRIPE_CLEARING, "USD") == 120 * K
    assert_books_consistent(ledger)


def test_credit_memo_on_open_invoice(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    assert ledger.post_credit_memo(
        external_id="cn_1", invoice_external_id="in_1", amount_minor=5 * K, currency="USD",
        reason="SLA breach", posted_on=date(2024, 1, 15),
    ) == "CM-000001"
    assert ledger.account_balance(CREDITS_ALLOWANCES, "USD") == 5 * K
    assert ledger.account_balance(RECEIVABLE, "USD") == 115 * K
    assert ledger.account_balance(CUSTOMER_CREDIT, "USD") == 0
    assert ledger.ar_open_by_invoice() == {"in_1": 115 * K}
    assert_books_consistent(ledger)


def test_credit_after_payment_goes_to_customer_balance(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    ledger.apply_payment(
        external_id="py_1", invoice_external_id="in_1", amount_minor=117 * K, currency="USD",
        paid_on=date(2024, 1, 10),
    )
    # $3K still open: the first $3K of the $5K credit clears it, $2K is owed to the customer.
    ledger.post_credit_memo(
        external_id="cn_1", invoice_external_id="in_1", amount_minor=5 * K, currency="USD",
        reason="Goodwill", posted_on=date(2024, 2, 1),
    )
    assert ledger.account_balance(RECEIVABLE, "USD") == 0
    assert ledger.account_balance(CUSTOMER_CREDIT, "USD") == 2 * K
    assert ledger.account_balance(CREDITS_ALLOWANCES, "USD") == 5 * K
    view = ledger.invoice("in_1")
    assert view is not None and view.open_minor == 0 and view.credited_minor == 3 * K
    assert_books_consistent(ledger)


def test_repeat_posts_nothing_new(sessions: sessionmaker[Session]) -> None:
    def everything(ledger: Ledger) -> list[object]:
        return [
            seed_deal(ledger),
            ledger.upsert_customer(external_id="001ACME", name="Acme Corp", currency="USD"),
            invoice(ledger),
            ledger.apply_payment(
                external_id="py_1", invoice_external_id="in_1", amount_minor=120 * K,
                currency="USD", paid_on=date(2024, 1, 10),
            ),
            ledger.post_credit_memo(
                external_id="cn_1", invoice_external_id="in_1", amount_minor=K, currency="USD",
                reason="Goodwill", posted_on=date(2024, 2, 1),
            ),
            ledger.recognize_revenue(through=date(2024, 6, 30)),
        ]

    first = everything(Ledger(sessions))
    counts, balances = row_counts(sessions), Ledger(sessions).trial_balance("USD")
    second = everything(Ledger(sessions))
    assert second[:-1] == first[:-1]
    assert first[-1] == 7 and second[-1] == 0
    assert row_counts(sessions) == counts
    assert Ledger(sessions).trial_balance("USD") == balances
    assert Ledger(sessions).duplicate_external_ids() == []


def test_reversal_is_a_new_entry(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    seed_deal(ledger)
    invoice(ledger)
    number = ledger.reverse_entry(
        entry_number="JE-000001", external_id="fix:in_1", posted_on=date(2024, 1, 2),
        memo="Invoice posted twice upstream",
    )
    assert number == "JE-000002"
    assert ledger.reverse_entry(
        entry_number="JE-000001", external_id="fix:in_1", posted_on=date(2024, 1, 2), memo="again"
    ) == number
    assert ledger.trial_balance("USD") == {RECEIVABLE: 0, DEFERRED_REVENUE: 0}


def test_customer_rename_in_crm_is_carried_over(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    first = ledger.upsert_customer(external_id="001ACME", name="Acme Corp", currency="USD")
    assert ledger.upsert_customer(external_id="001ACME", name="Acme Inc", currency="USD") == first
    with sessions() as s:
        assert s.scalar(select(LedgerCustomer.name)) == "Acme Inc"
