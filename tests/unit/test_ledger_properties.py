"""Property tests: any sequence of invoices, payments and credits keeps the books consistent."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from sync.ledger import InvoiceLineIn, Ledger, OverCreditError, OverpaymentError
from sync.ledger.accounts import CUSTOMER_CREDIT, RECEIVABLE
from sync.revenue.schedule import months_between, plan

amounts = st.integers(min_value=1, max_value=5_000_000)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.lists(amounts, min_size=1, max_size=3)),
        st.tuples(st.just("pay"), st.integers(0, 5), amounts),
        st.tuples(st.just("credit"), st.integers(0, 5), amounts),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=ops)
def test_random_activity_keeps_books_consistent(
    sessions: sessionmaker[Session], sequence: list[tuple]
) -> None:
    # One database serves every example, so each example works under its own keys.
    run = uuid.uuid4().hex[:8]
    ledger = Ledger(sessions)
    customer = f"{run}-cust"
    ledger.upsert_customer(external_id=customer, name="Prop Co", currency="USD")
    before_credit = ledger.account_balance(CUSTOMER_CREDIT, "USD")
    expected: dict[str, int] = {}  # our own model of each invoice's open balance
    totals: dict[str, int] = {}
    credited: dict[str, int] = {}
    excess = 0
    for i, op in enumerate(sequence):
        if op[0] == "invoice":
            ext = f"{run}-in{len(expected)}"
            ledger.post_invoice(
                external_id=ext, customer_external_id=customer, sales_order_external_id=None,
                number=None, currency="USD", issued_on=date(2024, 1, 1),
                due_on=date(2024, 1, 31), lines=[InvoiceLineIn("x", a) for a in op[1]],
            )
            expected[ext] = totals[ext] = sum(op[1])
            credited[ext] = 0
            continue
        if not expected:
            continue
        ext = sorted(expected)[op[1] % len(expected)]
        amount = op[2]
        if op[0] == "pay":
            if amount > expected[ext]:
                try:
                    ledger.apply_payment(
                        external_id=f"{run}-p{i}", invoice_external_id=ext,
                        amount_minor=amount, currency="USD", paid_on=date(2024, 2, 1),
                    )
                    raise AssertionError("overpayment accepted")
                except OverpaymentError:
                    continue
            ledger.apply_payment(
                external_id=f"{run}-p{i}", invoice_external_id=ext, amount_minor=amount,
                currency="USD", paid_on=date(2024, 2, 1),
            )
            expected[ext] -= amount
        else:
            if credited[ext] + amount > totals[ext]:
                try:
                    ledger.post_credit_memo(
                        external_id=f"{run}-c{i}", invoice_external_id=ext, amount_minor=amount,
                        currency="USD", reason="prop", posted_on=date(2024, 2, 1),
                    )
                    raise AssertionError("credit past the invoice total accepted")
                except OverCreditError:
                    continue
            ledger.post_credit_memo(
                external_id=f"{run}-c{i}", invoice_external_id=ext, amount_minor=amount,
                currency="USD", reason="prop", posted_on=date(2024, 2, 1),
            )
            credited[ext] += amount
            excess += amount - min(amount, expected[ext])
            expected[ext] -= min(amount, expected[ext])

    assert ledger.unbalanced_entries() == []
    assert sum(ledger.trial_balance("USD").values()) == 0
    open_now = ledger.ar_open_by_invoice()
    assert {k: v for k, v in open_now.items() if k.startswith(run)} == {
        k: v for k, v in expected.items() if v
    }
    assert all(v > 0 for v in open_now.values())
    assert ledger.account_balance(RECEIVABLE, "USD") == sum(open_now.values())
    assert ledger.account_balance(CUSTOMER_CREDIT, "USD") - before_credit == excess


@given(
    amount=st.integers(0, 10**12),
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    days=st.integers(0, 1500),
)
def test_ratable_schedule_adds_back_and_covers_the_term(
    amount: int, start: date, days: int
) -> None:
    end = date.fromordinal(start.toordinal() + days)
    periods = plan(amount_minor=amount, start=start, end=end, recognition="ratable")
    assert sum(p.amount_minor for p in periods) == amount
    assert len(periods) == months_between(start, end)
    assert periods[0].start == start and periods[-1].end == end
    assert max(p.amount_minor for p in periods) - min(p.amount_minor for p in periods) <= 1
    for a, b in itertools.pairwise(periods):
        assert a.end < b.start and a.recognize_on == a.end
