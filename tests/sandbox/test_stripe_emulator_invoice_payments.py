"""Partial payments on an invoice through stripe-python (`attach_payment`), card and ACH.

Worked example: a $1,200.00 invoice paid $500.00 by card on Jan 1, then the rest, $700.00, by a
card payment attached before it is confirmed.
    $500.00  fee 14.50 + 0.30 = 14.80   net 485.20
    $700.00  fee 20.30 + 0.30 = 20.60   net 679.40
    invoice: amount_paid 500.00, remaining 700.00 (open) → 1,200.00, remaining 0.00 (paid)
    balance: pending 485.20 + 679.40 = 1,164.60
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox.cash_helpers import DAY, balance, client, emu, event_types, trigger

__all__ = ["client", "emu"]


def _open_invoice(client: stripe.StripeClient, amount: int) -> tuple[str, Any]:
    cus = client.v1.customers.create(params={"email": "ap@initech.test"})
    inv = client.v1.invoices.create(params={"customer": cus.id, "auto_advance": False,
                                            "collection_method": "send_invoice",
                                            "days_until_due": 30})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id,
                                           "amount": amount, "currency": "usd"})
    return cus.id, client.v1.invoices.finalize_invoice(inv.id)


def _intent(client: stripe.StripeClient, customer: str, amount: int, **extra: Any) -> Any:
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "customer": customer,
        "payment_method": "pm_card_visa", **extra})


def test_an_invoice_paid_in_two_parts(emu: StripeEmulator,
                                      client: stripe.StripeClient) -> None:
    cus, inv = _open_invoice(client, 120_000)
    first = _intent(client, cus, 50_000, confirm=True)
    inv = client.v1.invoices.attach_payment(inv.id, params={"payment_intent": first.id})
    assert (inv.status, inv.amount_paid, inv.amount_remaining) == ("open", 50_000, 70_000)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.invoices.attach_payment(inv.id, params={
            "payment_intent": _intent(client, cus, 70_001).id})
    assert too_much.value.param == "payment_intent"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.attach_payment(inv.id, params={"payment_intent": first.id})

    rest = _intent(client, cus, 70_000)
    inv = client.v1.invoices.attach_payment(inv.id, params={"payment_intent": rest.id})
    assert (inv.status, inv.amount_paid) == ("open", 50_000)  # not paid until it succeeds
    client.v1.payment_intents.confirm(rest.id)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.status, inv.amount_paid, inv.amount_remaining) == ("paid", 120_000, 0)
    rows = client.v1.invoice_payments.list(params={"invoice": inv.id}).data
    assert sorted((r.amount_paid, r.status, r.is_default) for r in rows) == [
        (50_000, "paid", False), (70_000, "paid", False)]
    assert balance(client) == (0, 116_460)
    assert event_types(client, "invoice_payment.") == ["invoice_payment.paid"] * 2
    assert event_types(client, "invoice.paid") == ["invoice.paid"]
    with pytest.raises(stripe.InvalidRequestError) as closed:
        client.v1.invoices.attach_payment(inv.id, params={
            "payment_intent": _intent(client, cus, 100).id})
    assert closed.value.code == "invoice_not_editable"


def test_an_attached_ach_debit_credits_the_invoice_when_it_settles(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    cus, inv = _open_invoice(client, 30_000)
    debit = client.v1.payment_intents.create(params={
        "amount": 10_000, "currency": "usd", "customer": cus, "confirm": True,
        "payment_method_types": ["us_bank_account"],
        "payment_method_data": {"type": "us_bank_account",
                                "billing_details": {"name": "Initech AP"},
                                "us_bank_account": {"routing_number": "110000000",
                                                    "account_number": "000123456789"}}})
    inv = client.v1.invoices.attach_payment(inv.id, params={"payment_intent": debit.id})
    assert (debit.status, inv.amount_paid) == ("processing", 0)
    emu.advance(seconds=4 * DAY)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.status, inv.amount_paid, inv.amount_remaining) == ("open", 10_000, 20_000)


def test_an_overpayment_goes_to_the_credit_balance_and_the_next_invoice_uses_it(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    """$1,000.00 due, $1,200.00 received: paid, $200.00 overpaid and on the customer's credit
    balance; the next $1,000.00 invoice is finalized with $800.00 due and the balance back at 0."""
    cus, inv = _open_invoice(client, 100_000)
    exact = httpx.post(f"{emu.url}/sandbox/invoices/{inv.id}/overpay",
                       data={"payment_intent": _intent(client, cus, 100_000, confirm=True).id},
                       headers={"Authorization": f"Bearer {emu.api_key}"})
    assert exact.status_code == 400  # not more than is due: not an overpayment
    paid = trigger(emu, f"/sandbox/invoices/{inv.id}/overpay",
                   payment_intent=_intent(client, cus, 120_000, confirm=True).id)
    assert (paid["status"], paid["amount_paid"], paid["amount_overpaid"],
            paid["amount_remaining"]) == ("paid", 120_000, 20_000, 0)
    assert client.v1.customers.retrieve(cus).balance == -20_000
    (credit,) = client.v1.customers.balance_transactions.list(cus).data
    assert (credit.type, credit.amount, credit.invoice) == ("invoice_overpaid", -20_000, inv.id)
    nxt = client.v1.invoices.create(params={"customer": cus, "auto_advance": False,
                                            "collection_method": "send_invoice",
                                            "days_until_due": 30})
    client.v1.invoice_items.create(params={"customer": cus, "invoice": nxt.id,
                                           "amount": 100_000, "currency": "usd"})
    nxt = client.v1.invoices.finalize_invoice(nxt.id)
    assert (nxt.total, nxt.amount_due, nxt.starting_balance, nxt.ending_balance) == (
        100_000, 80_000, -20_000, 0)
    assert client.v1.customers.retrieve(cus).balance == 0
