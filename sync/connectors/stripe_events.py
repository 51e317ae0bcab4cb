"""Stripe events, from a webhook delivery or from `/v1/events`, as the engine's `BillingEvent`.

A webhook is verified here (`Stripe-Signature`, 300 s tolerance) and read as plain JSON, so the
engine never sees SDK objects. An invoice event's snapshot is converted only when asked for:
the events poll keeps just the newest snapshot of each invoice, and converting the rest would
be wasted work on large pages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import stripe

from sync.connectors.stripe_objects import to_invoice
from sync.errors import WebhookRejected
from sync.model import Invoice
from sync.ports import EventPage

TOLERANCE_S = 300
INVOICE_EVENTS = ("invoice.",)
PAYMENT_PAID = "invoice_payment.paid"


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: int
    data: dict[str, Any]
    # The connected account the event happened in (a Connect endpoint's events name it).
    account: str | None = None

    @property
    def object_id(self) -> str:
        return str(self.data.get("id"))

    @property
    def is_invoice(self) -> bool:
        return self.type.startswith(INVOICE_EVENTS)

    def invoice(self) -> Invoice:
        return to_invoice(self.data)

    def paid_by(self) -> tuple[str, str] | None:
        """(payment intent, invoice) of an `invoice_payment.paid` event, else None."""
        if self.type != PAYMENT_PAID:
            return None
        payment = self.data.get("payment") or {}
        intent, invoice = payment.get("payment_intent"), self.data.get("invoice")
        if payment.get("type") != "payment_intent" or not intent or not invoice:
            return None
        return _ref(intent), _ref(invoice)


def _ref(value: Any) -> str:
    return str(value["id"]) if isinstance(value, dict) else str(value)


def from_json(event: dict[str, Any]) -> StripeEvent:
    obj = event["data"]["object"]
    if not isinstance(obj, dict):
        raise ValueError("event without an object")
    account = event.get("account")
    return StripeEvent(str(event["id"]), str(event["type"]), int(event.get("created") or 0), obj,
                       account=str(account)[:255] if account else None)


def page_of(listing: dict[str, Any]) -> EventPage:
    return EventPage(events=[from_json(e) for e in listing["data"]],
                     has_more=bool(listing.get("has_more")))


def verify_webhook(payload: bytes, signature: str | None, secret: str, *,
                   max_body: int) -> StripeEvent:
    """The delivery's event, or `WebhookRejected` for anything unsigned, stale or malformed."""
    return verify_any(payload, signature, [secret], max_body=max_body)[0]


def verify_any(payload: bytes, signature: str | None, secrets: Sequence[str], *,
               max_body: int) -> tuple[StripeEvent, int]:
    """The delivery's event and which of `secrets` (each endpoint has its own) signed it, or
    `WebhookRejected` for anything none of them signed, stale or malformed."""
    if not signature or not payload or len(payload) > max_body or not secrets:
        raise WebhookRejected("missing signature or body")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected("malformed event") from error
    signer = None
    for n, secret in enumerate(secrets):
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, TOLERANCE_S)
        except stripe.SignatureVerificationError:
            continue
        signer = n
        break
    if signer is None:
        raise WebhookRejected("bad or stale signature")
    try:
        event = from_json(json.loads(payload))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise WebhookRejected("malformed event") from error
    if not event.id or len(event.id) > 255:
        raise WebhookRejected("malformed event")
    return event, signer
