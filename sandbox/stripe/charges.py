"""The charge behind a payment intent, and the funds it brings into the balance.

One builder serves every payment method: the card path fills `payment_method_details.card`, the
ACH path `payment_method_details.us_bank_account`. A charge's funds arrive as a `charge` balance
transaction net of the method's fee (see `fees.py`), available two days later.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe import balance
from sandbox.stripe.clock import DAY
from sandbox.stripe.fees import processing_fee
from sandbox.stripe.objects import build, list_object, new_id, random_token
from sandbox.stripe.state import State

AVAILABLE_AFTER = 2 * DAY


def new_charge(st: State, pi: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    """A charge for the intent's amount, not yet added to the state."""
    ch_id = new_id("charge")
    return build("charge", id=ch_id, created=st.now, amount=pi["amount"],
                 currency=pi["currency"], customer=pi["customer"], description=pi["description"],
                 payment_intent=pi["id"], payment_method=pm["id"], metadata=dict(pi["metadata"]),
                 calculated_statement_descriptor="CLOSEBOT", receipt_url=None,
                 refunds=list_object([], f"/v1/charges/{ch_id}/refunds"))


def collect(st: State, ch: dict[str, Any]) -> dict[str, Any]:
    """The charge succeeded: its funds, less the fee, become pending in the balance."""
    method = ch["payment_method_details"]["type"]
    txn = balance.record(st, amount=ch["amount"], fee=processing_fee(method, ch["amount"]),
                         currency=ch["currency"], source=ch["id"], type="charge",
                         description=ch["description"], available_on=st.now + AVAILABLE_AFTER)
    ch.update(status="succeeded", paid=True, captured=True, amount_captured=ch["amount"],
              balance_transaction=txn["id"], failure_code=None, failure_message=None,
              receipt_url=f"https://pay.stripe.com/receipts/payment/{random_token(40)}")
    return txn
