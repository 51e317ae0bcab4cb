"""Disputes (chargebacks): opened by the card holder's bank, answered or accepted, then decided.

A dispute opens `needs_response` with evidence due in seven days; the disputed amount and the
$15 dispute fee leave the balance at once (an `adjustment` transaction with reporting category
`dispute`, `charge.dispute.funds_withdrawn`). Submitting evidence (`POST /v1/disputes/{id}` with
`submit=true`) moves it `under_review`; `POST /v1/disputes/{id}/close` accepts it (`lost`). The
bank's decision is a sandbox trigger, `POST /sandbox/disputes/{id}/decide` with `outcome=won` or
`lost`: a won dispute gives the amount and the fee back (`dispute_reversal`,
`charge.dispute.funds_reinstated`). Charges made with the test card `pm_card_createDispute` are
disputed as soon as they succeed, and `POST /sandbox/charges/{id}/dispute` opens one on any charge.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe import balance
from sandbox.stripe.clock import DAY
from sandbox.stripe.fees import DISPUTE_FEE
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid, merge_metadata

REASONS = ("fraudulent", "product_not_received", "product_unacceptable", "duplicate",
           "subscription_canceled", "credit_not_processed", "unrecognized", "general")
OPEN = ("warning_needs_response", "needs_response", "under_review", "warning_under_review")
UPDATE_SPEC = {"evidence": "any", "metadata": "meta", "submit": "bool"}
OPEN_SPEC = {"reason": "str", "amount": "int"}
DECIDE_SPEC = {"outcome": "str"}


def open_dispute(st: State, ch_id: str, p: dict[str, Any]) -> dict[str, Any]:
    ch = st.get("charge", ch_id, param="charge")
    reason = p.get("reason") or "fraudulent"
    if reason not in REASONS:
        raise invalid(f"reason must be one of {', '.join(REASONS)}.", param="reason")
    if ch["status"] != "succeeded" or ch["disputed"]:
        raise invalid(f"Charge {ch_id} cannot be disputed (status {ch['status']}, "
                      f"already disputed: {ch['disputed']}).")
    amount = p.get("amount") or ch["amount_captured"] - ch["amount_refunded"]
    if amount <= 0 or amount > ch["amount_captured"] - ch["amount_refunded"]:
        raise invalid("The disputed amount must be positive and at most what was not "
                      "refunded.", param="amount")
    dp_id = new_id("dispute")
    txn = balance.record(st, amount=-amount, currency=ch["currency"], source=dp_id,
                         type="adjustment", category="dispute", fee=DISPUTE_FEE,
                         fee_description="Dispute fee",
                         description=f"Chargeback withdrawal for {ch_id}")
    dp = st.add(build(
        "dispute", id=dp_id, created=st.now, amount=amount, charge=ch_id,
        currency=ch["currency"], payment_intent=ch["payment_intent"], reason=reason,
        status="needs_response", is_charge_refundable=False, metadata={},
        balance_transactions=[snapshot(txn)], enhanced_eligibility_types=[],
        evidence_details={"due_by": st.now + 7 * DAY, "has_evidence": False,
                          "past_due": False, "submission_count": 0,
                          "enhanced_eligibility": {}},
        payment_method_details=_method(ch),
    ))
    ch["disputed"] = True
    st.private(ch_id)["dispute_status"] = "needs_response"
    st.emit("charge.dispute.created", dp)
    st.emit("charge.dispute.funds_withdrawn", dp)
    return dp


def _method(ch: dict[str, Any]) -> dict[str, Any]:
    details = ch["payment_method_details"]
    if details["type"] != "card":
        return {"type": details["type"]}
    brand = details["card"]["brand"]
    return {"type": "card", "card": {"brand": brand, "case_type": "chargeback",
                                     "network_reason_code": "10.4", "network": brand}}


def update_dispute(st: State, dp_id: str, p: dict[str, Any]) -> dict[str, Any]:
    dp = st.get("dispute", dp_id)
    if dp["status"] not in OPEN:
        raise invalid("This dispute is already closed", code="charge_dispute_already_closed")
    before = snapshot(dp)
    if p.get("evidence"):
        if not isinstance(p["evidence"], dict):
            raise invalid("Invalid object", param="evidence")
        unknown = set(p["evidence"]) - set(dp["evidence"])
        if unknown:
            raise invalid(f"Received unknown parameter: evidence[{sorted(unknown)[0]}]",
                          param=f"evidence[{sorted(unknown)[0]}]")
        dp["evidence"].update(p["evidence"])
        dp["evidence_details"]["has_evidence"] = True
    dp["metadata"] = merge_metadata(dp["metadata"], p.get("metadata"))
    if p.get("submit"):
        dp["status"] = "under_review"
        dp["evidence_details"]["submission_count"] += 1
    st.emit("charge.dispute.updated", dp, changed(before, dp))
    return dp


def close_dispute(st: State, dp_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Accepting the dispute: it is lost, and the funds stay withdrawn."""
    dp = st.get("dispute", dp_id)
    if dp["status"] not in ("needs_response", "warning_needs_response"):
        raise invalid("This dispute is already closed" if dp["status"] not in OPEN else
                      "A dispute under review cannot be accepted.",
                      code="charge_dispute_already_closed")
    return _close(st, dp, "lost")


def decide(st: State, dp_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Sandbox only: the card network's decision on an open dispute."""
    dp = st.get("dispute", dp_id)
    if p.get("outcome") not in ("won", "lost"):
        raise invalid("outcome must be won or lost.", param="outcome")
    if dp["status"] not in OPEN:
        raise invalid("This dispute is already closed", code="charge_dispute_already_closed")
    return _close(st, dp, p["outcome"])


def _close(st: State, dp: dict[str, Any], outcome: str) -> dict[str, Any]:
    dp["status"] = outcome
    st.private(dp["charge"])["dispute_status"] = outcome
    if outcome == "won":
        txn = balance.record(st, amount=dp["amount"], currency=dp["currency"], source=dp["id"],
                             type="adjustment", category="dispute_reversal", fee=-DISPUTE_FEE,
                             fee_description="Dispute fee refund",
                             description=f"Chargeback reversal for {dp['charge']}")
        dp["balance_transactions"].append(snapshot(txn))
        st.emit("charge.dispute.funds_reinstated", dp)
    st.emit("charge.dispute.closed", dp)
    return dp
