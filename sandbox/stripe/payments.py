"""Payment intents and their card charges; bank debits are handed to `ach.py`.

Money model, as Stripe's: each successful card charge has a balance transaction with the card fee
(see `fees.py`), `net = amount - fee`, and `available_on` two days after creation (status
`pending` until the clock reaches it). A decline leaves a failed charge with no balance
transaction and answers HTTP 402 `card_error` carrying `decline_code`, `charge` and the intent.
A charge made with `pm_card_createDispute` is disputed as soon as it succeeds, and one made with
`pm_card_refundFail` has its refunds fail later, as those Stripe test cards do.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe import ach, disputes, refunds
from sandbox.stripe.catalog import materialize_payment_method, payment_method_card
from sandbox.stripe.charges import collect, new_charge
from sandbox.stripe.objects import build, new_id, random_token
from sandbox.stripe.state import State, snapshot
from sandbox.stripe.wire import StripeError, invalid, merge_metadata, require

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50}

PI_SPEC = {
    "amount": "int", "currency": "str", "customer": "str", "payment_method": "str",
    "confirm": "bool", "description": "str", "metadata": "meta", "receipt_email": "str",
    "payment_method_types": ["str"], "automatic_payment_methods": {"enabled": "bool",
                                                                  "allow_redirects": "str"},
    "off_session": "bool", "capture_method": "str", "setup_future_usage": "str",
    "statement_descriptor": "str", "statement_descriptor_suffix": "str", "return_url": "str",
    "payment_method_data": ach.PM_SPEC, "mandate_data": "any", "payment_method_options": "any",
}


def _charge(st: State, pi: dict[str, Any], pm: dict[str, Any],
            decline: str | None) -> dict[str, Any]:
    ch = new_charge(st, pi, pm)
    card = ch["payment_method_details"]["card"]
    card.update(brand=pm["card"]["brand"], last4=pm["card"]["last4"], network=pm["card"]["brand"],
                fingerprint=pm["card"]["fingerprint"], exp_year=pm["card"]["exp_year"],
                wallet=None, amount_authorized=pi["amount"] if not decline else None)
    card["overcapture"]["maximum_amount_capturable"] = pi["amount"]
    outcome = ch["outcome"]
    if decline:
        ch.update(status="failed", paid=False, captured=False, amount_captured=0,
                  balance_transaction=None, failure_code="card_declined",
                  failure_message=DECLINE_MESSAGES[decline])
        outcome.update(network_status="declined_by_network", reason=decline, risk_level="normal",
                       seller_message="The bank did not return any further details with this "
                       "decline.", type="issuer_declined")
    else:
        collect(st, ch)
        outcome.update(network_status="approved_by_network", reason=None, risk_level="normal",
                       seller_message="Payment complete.", type="authorized")
    return st.add(ch)


def new_payment_intent(st: State, *, amount: int, currency: str, customer: str | None,
                       description: str | None = None,
                       metadata: dict[str, str] | None = None) -> dict[str, Any]:
    pi_id = new_id("payment_intent")
    pi = st.add(build(
        "payment_intent", id=pi_id, created=st.now, amount=amount, currency=currency,
        customer=customer, description=description, metadata=metadata or {},
        status="requires_payment_method", client_secret=f"{pi_id}_secret_{random_token(25)}",
        payment_method_types=["card"], amount_received=0, latest_charge=None,
    ))
    st.emit("payment_intent.created", pi)
    return pi


def confirm(st: State, pi: dict[str, Any], pm_ref: str | None) -> StripeError | None:
    """Charge the intent's card; returns the card error on decline (the caller raises it)."""
    if pi["status"] in ("succeeded", "processing"):
        raise invalid("This PaymentIntent's payment_method could not be updated because it has a "
                      f"status of {pi['status']}.", code="payment_intent_unexpected_state")
    pm_ref = pm_ref or pi["payment_method"]
    if not pm_ref:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment "
                      "method.", code="payment_intent_unexpected_state")
    pm = materialize_payment_method(st, pm_ref, param="payment_method")
    if pi["customer"] and pm["customer"] not in (None, pi["customer"]):
        raise invalid("The provided PaymentMethod belongs to another customer.",
                      param="payment_method")
    if pm["type"] not in pi["payment_method_types"]:
        raise invalid(f"The PaymentMethod provided ({pm['type']}) is not allowed for this "
                      "PaymentIntent. Please attach a PaymentMethod of one of the following "
                      f"types: {', '.join(pi['payment_method_types'])}.",
                      param="payment_method", code="payment_intent_incompatible_payment_method")
    if pm["type"] == "us_bank_account":
        ach.begin(st, pi, pm)
        return None
    _, decline = payment_method_card(st, pm["id"])
    ch = _charge(st, pi, pm, decline)
    pi.update(payment_method=pm["id"], latest_charge=ch["id"])
    if decline:
        message = DECLINE_MESSAGES[decline]
        pi.update(status="requires_payment_method", last_payment_error={
            "type": "card_error", "code": "card_declined", "decline_code": decline,
            "message": message, "charge": ch["id"], "payment_method": snapshot(pm)})
        st.emit("charge.failed", ch)
        st.emit("payment_intent.payment_failed", pi)
        return StripeError(402, message, type="card_error", code="card_declined", extra={
            "decline_code": decline, "charge": ch["id"], "payment_intent": snapshot(pi),
            "payment_method": snapshot(pm)})
    pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
    st.emit("charge.succeeded", ch)
    st.emit("payment_intent.succeeded", pi)
    after = st.private(pm["id"]).get("after_charge")
    if after == "dispute":
        disputes.open_dispute(st, ch["id"], {"reason": "fraudulent"})
    elif after == "refund_fails":
        refunds.mark_fails_later(st, ch["id"])
    return None


def create_payment_intent(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "amount", "currency")
    currency = p["currency"].lower()
    minimum = MINIMUM_CHARGE.get(currency, 50)
    if p["amount"] < minimum:
        raise StripeError(400, f"Amount must be at least {minimum / 100:.2f} {currency}",
                          code="amount_too_small", param="amount")
    if p.get("capture_method") not in (None, "automatic", "automatic_async"):
        raise invalid("Only automatic capture is emulated.", param="capture_method")
    customer = st.get("customer", p["customer"], param="customer")["id"] if p.get(
        "customer") else None
    pi = new_payment_intent(st, amount=p["amount"], currency=currency, customer=customer,
                            description=p.get("description"), metadata=p.get("metadata"))
    pi["receipt_email"] = p.get("receipt_email")
    if p.get("payment_method_types"):
        pi["payment_method_types"] = p["payment_method_types"]
    if p.get("payment_method_data"):
        pi["payment_method"] = ach.create_payment_method(st, p["payment_method_data"])["id"]
        pi["status"] = "requires_confirmation"
    elif p.get("payment_method"):
        pi["payment_method"] = materialize_payment_method(st, p["payment_method"],
                                                          param="payment_method")["id"]
        pi["status"] = "requires_confirmation"
    if p.get("confirm"):
        error = confirm(st, pi, None)
        if error:
            raise error
    return pi


def update_payment_intent(st: State, pi_id: str, p: dict[str, Any]) -> dict[str, Any]:
    pi = st.get("payment_intent", pi_id)
    if pi["status"] in ("succeeded", "canceled") and ("amount" in p or "payment_method" in p):
        raise invalid(f"This PaymentIntent's amount could not be updated because it has a status "
                      f"of {pi['status']}.", code="payment_intent_unexpected_state")
    for key in ("amount", "description", "receipt_email"):
        if key in p:
            pi[key] = p[key]
    pi["metadata"] = merge_metadata(pi["metadata"], p.get("metadata"))
    return pi


def confirm_payment_intent(st: State, pi_id: str, p: dict[str, Any]) -> dict[str, Any]:
    pi = st.get("payment_intent", pi_id)
    error = confirm(st, pi, p.get("payment_method"))
    if error:
        raise error
    return pi


def cancel_payment_intent(st: State, pi_id: str, p: dict[str, Any]) -> dict[str, Any]:
    pi = st.get("payment_intent", pi_id)
    if pi["status"] in ("succeeded", "canceled", "processing"):
        raise invalid(f"You cannot cancel this PaymentIntent because it has a status of "
                      f"{pi['status']}.", code="payment_intent_unexpected_state")
    pi.update(status="canceled", canceled_at=st.now,
              cancellation_reason=p.get("cancellation_reason"))
    st.emit("payment_intent.canceled", pi)
    return pi
