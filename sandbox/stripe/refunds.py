"""Refunds: full or partial, drawn from the available balance, and their failures.

A refund is `succeeded` at once when the available balance in its currency covers it: a negative
`refund` balance transaction leaves the balance (the charge's fee is not given back). When the
balance is short, the refund is `pending` with no balance transaction yet and succeeds when
funds become available (`refund.updated`), before any payout is made. `charge.refunded` and
`refund.created` are sent when the refund is created; the charge's `amount_refunded` counts
pending refunds too, as Stripe's does.

A refund can fail after it succeeded (the card was closed): charges made with the test card
`pm_card_refundFail` fail their refunds a day later, and `POST /sandbox/refunds/{id}/fail` fails
one at once. The amount comes back to the balance (an `adjustment` transaction whose reporting
category is `refund_failure`, as Stripe files failed refunds), the charge's
`amount_refunded` goes down, and `refund.updated` and `refund.failed` are sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.stripe import balance
from sandbox.stripe.clock import DAY
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid

REFUND_SPEC = {"charge": "str", "payment_intent": "str", "amount": "int", "reason": "str",
               "metadata": "meta"}
REASONS = (None, "duplicate", "fraudulent", "requested_by_customer")
_FAILS_LATER = "refund_fails_later"
_WAITING, _FAILING = "__refunds_waiting__", "__refunds_failing__"


def _charge_of(st: State, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("charge") and not p.get("payment_intent"):
        raise invalid("One of the following params should be provided for this request: "
                      "payment_intent or charge.", code="parameter_missing")
    if p.get("charge"):
        return st.get("charge", p["charge"], param="charge")
    pi = st.get("payment_intent", p["payment_intent"], param="payment_intent")
    ch = st.find("charge", pi["latest_charge"])
    if ch is None or pi["status"] != "succeeded":
        raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge "
                      "to refund.", param="payment_intent")
    return ch


def create_refund(st: State, p: dict[str, Any]) -> dict[str, Any]:
    ch = _charge_of(st, p)
    if p.get("reason") not in REASONS:
        raise invalid("Invalid reason: must be one of duplicate, fraudulent, or "
                      "requested_by_customer", param="reason")
    if ch["disputed"] and st.private(ch["id"]).get("dispute_status") != "won":
        raise invalid(f"Charge {ch['id']} has been charged back; cannot issue a refund.",
                      code="charge_disputed")
    if ch["status"] == "pending":
        raise invalid(f"Charge {ch['id']} is still processing; it can be refunded once it "
                      "succeeds.", code="charge_not_refundable")
    remaining = ch["amount_captured"] - ch["amount_refunded"]
    amount = p.get("amount", remaining)
    if ch["status"] != "succeeded" or remaining <= 0:
        raise invalid(f"Charge {ch['id']} has already been refunded.",
                      code="charge_already_refunded")
    if amount <= 0 or amount > remaining:
        raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                      f"({remaining})", param="amount")
    refund = st.add(build(
        "refund", id=new_id("refund"), created=st.now, amount=amount, charge=ch["id"],
        currency=ch["currency"], payment_intent=ch["payment_intent"], status="pending",
        reason=p.get("reason"), balance_transaction=None, customer=ch["customer"],
        metadata=p.get("metadata") or {}, payment_method=ch["payment_method"],
        failure_reason=None, failure_balance_transaction=None,
        destination_details=_destination(ch),
    ))
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount_captured"]
    ch["refunds"]["data"].insert(0, refund)
    if balance.available(st, ch["currency"]) >= amount:
        _succeed(st, refund)
    else:
        st.internal.setdefault(_WAITING, {})[refund["id"]] = refund
    st.emit("refund.created", refund)
    st.emit("charge.refunded", ch)
    return refund


def _destination(ch: dict[str, Any]) -> dict[str, Any]:
    if ch["payment_method_details"]["type"] == "us_bank_account":
        return {"type": "us_bank_account", "us_bank_account": {"reference": None,
                                                               "reference_status": "pending"}}
    return {"type": "card", "card": {"reference": None, "reference_status": "pending",
                                     "reference_type": "acquirer_reference_number",
                                     "type": "refund"}}


def _succeed(st: State, refund: dict[str, Any]) -> None:
    txn = balance.record(st, amount=-refund["amount"], currency=refund["currency"],
                         source=refund["id"], type="refund", description="REFUND FOR CHARGE")
    refund.update(status="succeeded", balance_transaction=txn["id"])
    if st.private(refund["charge"]).get(_FAILS_LATER):
        st.internal.setdefault(_FAILING, {})[refund["id"]] = st.now + DAY


def settle_waiting(st: State) -> None:
    """Pay out pending refunds, oldest first, while the available balance covers them."""
    waiting = st.internal.get(_WAITING, {})
    for refund in list(waiting.values()):  # oldest first: dicts keep insertion order
        if refund["amount"] <= balance.available(st, refund["currency"]):
            del waiting[refund["id"]]
            before = snapshot(refund)
            _succeed(st, refund)
            st.emit("refund.updated", refund, changed(before, refund))


def tasks(st: State) -> list[tuple[int, Callable[[], None]]]:
    """Failures of refunds on `pm_card_refundFail` charges, a day after they succeeded."""
    return [(at, lambda r=re_id: fail(st, r, {}))
            for re_id, at in st.internal.get(_FAILING, {}).items()]


def fail(st: State, re_id: str, p: dict[str, Any]) -> dict[str, Any]:
    refund = st.get("refund", re_id)
    if refund["status"] != "succeeded":
        raise invalid(f"Refund {re_id} cannot fail: its status is {refund['status']}.")
    st.internal.get(_FAILING, {}).pop(re_id, None)
    before = snapshot(refund)
    txn = balance.record(st, amount=refund["amount"], currency=refund["currency"],
                         source=re_id, type="adjustment", category="refund_failure",
                         description=f"Refund failure for {refund['charge']}")
    refund.update(status="failed", failure_reason=p.get("failure_reason") or
                  "expired_or_canceled_card", failure_balance_transaction=txn["id"])
    ch = st.get("charge", refund["charge"])
    ch["amount_refunded"] -= refund["amount"]
    ch["refunded"] = False
    st.emit("refund.updated", refund, changed(before, refund))
    st.emit("refund.failed", refund)
    return refund


def mark_fails_later(st: State, charge_id: str) -> None:
    st.private(charge_id)[_FAILS_LATER] = True
