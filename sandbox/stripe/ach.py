"""ACH Direct Debit (`us_bank_account`): a payment that is `processing` for days, then settles.

Confirming an intent with a `us_bank_account` payment method leaves it `processing` and its charge
`pending` (`payment_intent.processing`, `charge.pending`), with no funds in the balance. Four days
later on the emulator clock the debit settles: the charge succeeds with the ACH fee (0.8%, capped
at $5) and its funds are pending two more days. Stripe's test account numbers (routing number
110000000) decide the outcome, as Stripe's test mode documents; a failing account fails only after
processing (`charge.failed`, `payment_intent.payment_failed`), so an invoice can look paid in a
system that trusted the first answer while no cash ever arrived. `POST
/sandbox/payment_intents/{id}/fail` fails a processing debit at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.stripe.catalog import ADDRESS
from sandbox.stripe.charges import collect, new_charge
from sandbox.stripe.clock import DAY
from sandbox.stripe.objects import build, new_id, random_token
from sandbox.stripe.state import State, snapshot
from sandbox.stripe.wire import invalid, require

SETTLES_AFTER = 4 * DAY
TEST_ROUTING = "110000000"
FAILURES = {
    "account_closed": "The customer's bank account has been closed.",
    "no_account": "The customer's bank account could not be located.",
    "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
    "debit_not_authorized": "The customer has notified their bank that this payment was "
                            "unauthorized.",
    "invalid_currency": "The bank was unable to process this payment because of its currency.",
}
# Stripe's test account numbers: each other number succeeds.
TEST_ACCOUNTS = {
    "000111111113": "account_closed", "000111111116": "no_account",
    "000222222227": "insufficient_funds", "000333333335": "debit_not_authorized",
    "000444444440": "invalid_currency",
}
BANK_SPEC = {"routing_number": "str", "account_number": "str", "account_holder_type": "str",
             "account_type": "str"}
PM_SPEC = {"type": "str", "us_bank_account": BANK_SPEC, "metadata": "meta",
           "billing_details": {"name": "str", "email": "str", "phone": "str",
                               "address": ADDRESS}}
FAIL_SPEC = {"failure_code": "str"}
_SETTLES = "ach_settles_at"


def create_payment_method(st: State, p: dict[str, Any]) -> dict[str, Any]:
    """`POST /v1/payment_methods` for `type=us_bank_account` (cards use the test tokens)."""
    require(p, "type")
    if p["type"] != "us_bank_account":
        raise invalid("Only type=us_bank_account can be created here; use a test token such as "
                      "pm_card_visa for cards.", param="type")
    bank = p.get("us_bank_account") or {}
    for key in ("routing_number", "account_number"):
        if not bank.get(key):
            raise invalid(f"Missing required param: us_bank_account[{key}].",
                          param=f"us_bank_account[{key}]", code="parameter_missing")
    if not (bank["routing_number"].isdigit() and len(bank["routing_number"]) == 9):
        raise invalid("Routing number must have 9 digits.",
                      param="us_bank_account[routing_number]", code="invalid_bank_account")
    if not (bank["account_number"].isdigit() and 4 <= len(bank["account_number"]) <= 17):
        raise invalid("Account number must be 4 to 17 digits.",
                      param="us_bank_account[account_number]", code="invalid_bank_account")
    details = p.get("billing_details") or {}
    if not details.get("name"):
        raise invalid("Missing required param: billing_details[name].",
                      param="billing_details[name]", code="parameter_missing")
    pm = build("payment_method", id=new_id("payment_method"), created=st.now,
               type="us_bank_account", card=None, metadata=p.get("metadata") or {},
               us_bank_account={
                   "account_holder_type": bank.get("account_holder_type") or "individual",
                   "account_type": bank.get("account_type") or "checking",
                   "bank_name": "STRIPE TEST BANK", "financial_connections_account": None,
                   "fingerprint": random_token(16), "last4": bank["account_number"][-4:],
                   "networks": {"preferred": "ach", "supported": ["ach"]},
                   "routing_number": bank["routing_number"], "status_details": {}})
    pm["billing_details"].update({k: v for k, v in details.items() if k != "address"})
    st.private(pm["id"])["ach_failure"] = TEST_ACCOUNTS.get(bank["account_number"])
    st.add(pm)
    st.emit("payment_method.created", pm)
    return pm


def begin(st: State, pi: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    """Submit the debit: the intent is `processing` until it settles or fails."""
    ch = new_charge(st, pi, pm)
    bank = pm["us_bank_account"]
    ch["payment_method_details"] = {"type": "us_bank_account", "us_bank_account": {
        key: bank[key] for key in ("account_holder_type", "account_type", "bank_name",
                                   "fingerprint", "last4", "routing_number")}}
    ch["payment_method_details"]["us_bank_account"].update(mandate=None, payment_reference=None)
    ch.update(status="pending", paid=False, captured=True, amount_captured=pi["amount"],
              balance_transaction=None)
    ch["outcome"].update(network_status="approved_by_network", risk_level="not_assessed",
                         seller_message="Payment pending.", type="authorized")
    st.add(ch)
    pi.update(status="processing", payment_method=pm["id"], latest_charge=ch["id"],
              last_payment_error=None, processing=None)
    st.private(pi["id"])[_SETTLES] = st.now + SETTLES_AFTER
    st.internal.setdefault(_SETTLES, {})[pi["id"]] = pi
    st.emit("charge.pending", ch)
    st.emit("payment_intent.processing", pi)
    return ch


def tasks(st: State, after: Callable[[dict[str, Any]], None]) -> list[
        tuple[int, Callable[[], None]]]:
    """Each processing debit settles on its day; `after(pi)` runs once it has settled."""
    due: list[tuple[int, Callable[[], None]]] = []
    for pi in st.internal.get(_SETTLES, {}).values():
        at = st.private(pi["id"]).get(_SETTLES)
        if at is not None and pi["status"] == "processing":
            due.append((at, lambda i=pi: after(settle(st, i))))
    return due


def settle(st: State, pi: dict[str, Any], failure: str | None = None) -> dict[str, Any]:
    st.private(pi["id"]).pop(_SETTLES, None)
    st.internal.get(_SETTLES, {}).pop(pi["id"], None)
    ch = st.get("charge", pi["latest_charge"])
    failure = failure or st.private(ch["payment_method"]).get("ach_failure")
    if failure is None:
        collect(st, ch)
        pi.update(status="succeeded", amount_received=pi["amount"])
        st.emit("charge.succeeded", ch)
        st.emit("payment_intent.succeeded", pi)
        return pi
    message = FAILURES[failure]
    ch.update(status="failed", paid=False, failure_code=failure, failure_message=message)
    pm = st.get("payment_method", ch["payment_method"])
    pi.update(status="requires_payment_method", last_payment_error={
        "type": "invalid_request_error", "code": failure, "decline_code": None,
        "message": message, "charge": ch["id"], "payment_method": snapshot(pm)})
    st.emit("charge.failed", ch)
    st.emit("payment_intent.payment_failed", pi)
    return pi


def fail(st: State, pi_id: str, p: dict[str, Any],
         after: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Sandbox only: the customer's bank returns a processing debit now."""
    pi = st.get("payment_intent", pi_id)
    code = p.get("failure_code") or "insufficient_funds"
    if code not in FAILURES:
        raise invalid(f"failure_code must be one of {', '.join(sorted(FAILURES))}.",
                      param="failure_code")
    if pi["status"] != "processing":
        raise invalid(f"PaymentIntent {pi_id} is not processing (status {pi['status']}).")
    after(settle(st, pi, code))
    return pi
