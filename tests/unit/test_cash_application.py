"""What the post step books for an invoice paid in parts, overpaid, or settled by the customer's
credit, read from Stripe's invoice as it reports them.

Worked example: invoice 1 is 1,000.00, paid 1,200.00 (Stripe: amount_paid 1,200.00,
amount_overpaid 200.00) → a payment of 1,000.00 and 200.00 of unapplied cash. Invoice 2 is
1,000.00, finalized with starting_balance -200.00 and ending_balance 0 → 200.00 of credit applied
and 800.00 due, paid in two parts: 300.00 then 500.00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sync.cash.application import credit_application_of, overpayment_of, payment_to_post
from sync.connectors.stripe_objects import to_invoice

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def stripe_invoice(**fields: Any) -> dict[str, Any]:
    return {"id": "in_1", "customer": "cus_1", "currency": "usd", "total": 100_000,
            "status": "open", "amount_paid": 0, "amount_remaining": 100_000,
            "starting_balance": 0, "ending_balance": 0,
            "status_transitions": {"finalized_at": 1_764_460_800}, **fields}


def test_an_overpaid_invoice_is_paid_what_was_due_and_the_rest_is_credit() -> None:
    invoice = to_invoice(stripe_invoice(status="paid", amount_due=100_000, amount_paid=120_000,
                                        amount_overpaid=20_000, amount_remaining=0))
    payment = payment_to_post(invoice, paid_in_erp=0, now=NOW)
    assert payment is not None and payment.amount_minor == 100_000
    overpayment = overpayment_of(invoice, now=NOW)
    assert overpayment is not None
    assert (overpayment.key, overpayment.amount_minor) == ("in_1:overpaid", 20_000)
    assert credit_application_of(invoice, now=NOW) is None


def test_the_credit_used_at_finalizing_is_applied_and_the_rest_paid_in_parts() -> None:
    first = to_invoice(stripe_invoice(amount_due=80_000, amount_paid=30_000,
                                      amount_remaining=50_000, starting_balance=-20_000))
    application = credit_application_of(first, now=NOW)
    assert application is not None
    assert (application.key, application.amount_minor, application.applied_on) == (
        "in_1:credit", 20_000, date(2025, 11, 30))
    assert overpayment_of(first, now=NOW) is None
    part = payment_to_post(first, paid_in_erp=0, now=NOW)
    assert part is not None and (part.billing_id, part.amount_minor) == ("in_1:paid@30000", 30_000)
    rest = to_invoice(stripe_invoice(status="paid", amount_due=80_000, amount_paid=80_000,
                                     amount_remaining=0, starting_balance=-20_000))
    paid = payment_to_post(rest, paid_in_erp=30_000, now=NOW)
    assert paid is not None and (paid.billing_id, paid.amount_minor) == ("in_1:paid@80000", 50_000)
    assert payment_to_post(rest, paid_in_erp=80_000, now=NOW) is None  # a replay: nothing


def test_a_debit_balance_added_to_an_invoice_is_not_a_credit() -> None:
    draft = to_invoice(stripe_invoice(status="draft", ending_balance=None,
                                      starting_balance=-20_000))
    owed = to_invoice(stripe_invoice(starting_balance=5_000, ending_balance=0))
    assert credit_application_of(draft, now=NOW) is None
    assert credit_application_of(owed, now=NOW) is None
