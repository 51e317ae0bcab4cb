"""Partial payments on an invoice: `POST /v1/invoices/{id}/attach_payment` with a payment intent.

As Stripe documents for partial payments, a payment intent of any amount up to the invoice's
`amount_remaining` can be attached to an open invoice of the same customer and currency; it adds
an `invoice_payment` (`is_default: false`). The invoice is credited when the intent succeeds (at
once if it already has): the payment becomes `paid` (`invoice_payment.paid`), the invoice's
`amount_paid` grows and `amount_remaining` shrinks (`invoice.updated`), and the payment that
brings `amount_remaining` to zero makes the invoice `paid` (`invoice.paid`). An attached ACH debit
credits the invoice only when it settles, days after it was made.

An overpayment (a bank transfer that sends more than is due) can't be made through the API:
`POST /sandbox/invoices/{id}/overpay` stands in for Stripe reconciling a succeeded payment larger
than the invoice's `amount_remaining` to it. The invoice is paid, `amount_paid` is what was
received and `amount_overpaid` the excess, which Stripe credits to the customer's credit balance
(a customer balance transaction of type `invoice_overpaid`); the next invoice Stripe finalizes
for the customer consumes that credit (`starting_balance`, `ending_balance`).
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe import invoices
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid, require

ATTACH_SPEC = {"payment_intent": "str"}
OVERPAY_SPEC = {"payment_intent": "str"}
_ATTACHABLE = ("requires_payment_method", "requires_confirmation", "processing", "succeeded")


def attach_payment(st: State, inv_id: str, p: dict[str, Any]) -> dict[str, Any]:
    inv = st.get("invoice", inv_id)
    require(p, "payment_intent")
    pi = st.get("payment_intent", p["payment_intent"], param="payment_intent")
    if inv["status"] != "open":
        raise invalid(f"Payments can only be attached to an open invoice; this invoice is "
                      f"{inv['status']}.", code="invoice_not_editable")
    if pi["currency"] != inv["currency"] or pi["customer"] not in (None, inv["customer"]):
        raise invalid("The PaymentIntent must have the invoice's currency and customer.",
                      param="payment_intent")
    if pi["status"] not in _ATTACHABLE:
        raise invalid(f"A PaymentIntent with status {pi['status']} cannot be attached.",
                      param="payment_intent", code="payment_intent_unexpected_state")
    if any(row["payment"].get("payment_intent") == pi["id"] for row in st.all("invoice_payment")):
        raise invalid(f"PaymentIntent {pi['id']} is already attached to an invoice.",
                      param="payment_intent")
    if pi["amount"] > inv["amount_remaining"]:
        raise invalid(f"The PaymentIntent's amount ({pi['amount']}) is more than the invoice's "
                      f"amount remaining ({inv['amount_remaining']}).", param="payment_intent")
    row = st.add(build("invoice_payment", id=new_id("invoice_payment"), created=st.now,
                       amount_paid=None, amount_requested=pi["amount"], currency=inv["currency"],
                       invoice=inv["id"], is_default=False, status="open", livemode=False,
                       payment={"type": "payment_intent", "payment_intent": pi["id"]}))
    if pi["status"] == "succeeded":
        _credit(st, inv, row, pi)
    return inv


def _credit(st: State, inv: dict[str, Any], row: dict[str, Any], pi: dict[str, Any]) -> None:
    row.update(status="paid", amount_paid=pi["amount"])
    row["status_transitions"]["paid_at"] = st.now
    st.emit("invoice_payment.paid", row)
    if pi["amount"] >= inv["amount_remaining"]:
        invoices.mark_paid(st, inv, amount=pi["amount"])
        return
    before = snapshot(inv)
    inv["amount_paid"] += pi["amount"]
    inv["amount_remaining"] -= pi["amount"]
    st.emit("invoice.updated", inv, changed(before, inv))


def on_payment_succeeded(st: State, pi: dict[str, Any]) -> None:
    """Credit the open invoice an attached payment intent belongs to, once it succeeds."""
    for row in st.all("invoice_payment"):
        if (not row["is_default"] and row["status"] == "open"
                and row["payment"].get("payment_intent") == pi["id"]):
            inv = st.get("invoice", row["invoice"])
            if inv["status"] == "open":
                _credit(st, inv, row, pi)


def overpay(st: State, inv_id: str, p: dict[str, Any]) -> dict[str, Any]:
    inv = st.get("invoice", inv_id)
    require(p, "payment_intent")
    pi = st.get("payment_intent", p["payment_intent"], param="payment_intent")
    if inv["status"] != "open":
        raise invalid(f"Only an open invoice can be overpaid; this invoice is {inv['status']}.",
                      code="invoice_not_editable")
    if pi["currency"] != inv["currency"] or pi["customer"] != inv["customer"]:
        raise invalid("The PaymentIntent must have the invoice's currency and customer.",
                      param="payment_intent")
    if pi["status"] != "succeeded" or pi["amount"] <= inv["amount_remaining"]:
        raise invalid("An overpayment is a succeeded PaymentIntent for more than the invoice's "
                      "amount remaining.", param="payment_intent")
    excess = pi["amount"] - inv["amount_remaining"]
    row = st.add(build("invoice_payment", id=new_id("invoice_payment"), created=st.now,
                       amount_paid=None, amount_requested=pi["amount"], currency=inv["currency"],
                       invoice=inv["id"], is_default=False, status="open", livemode=False,
                       payment={"type": "payment_intent", "payment_intent": pi["id"]}))
    row.update(status="paid", amount_paid=pi["amount"])
    row["status_transitions"]["paid_at"] = st.now
    st.emit("invoice_payment.paid", row)
    inv["amount_overpaid"] = excess
    cus = st.get("customer", inv["customer"])
    cus["balance"] -= excess
    st.add(build("customer_balance_transaction", id=new_id("customer_balance_transaction"),
                 created=st.now, amount=-excess, currency=inv["currency"], customer=cus["id"],
                 ending_balance=cus["balance"], invoice=inv["id"], type="invoice_overpaid",
                 metadata={}))
    st.emit("customer.updated", cus, {"balance": cus["balance"] + excess})
    invoices.mark_paid(st, inv, amount=pi["amount"])
    return inv
