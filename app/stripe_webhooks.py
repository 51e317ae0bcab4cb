"""`POST /stripe/webhooks`, framework-free: the Stripe connector verifies the delivery, the engine
applies it."""

from __future__ import annotations

from sync.connectors.stripe_events import verify_webhook
from sync.engine.runtime import Runtime
from sync.engine.webhooks import receive_webhook, reject_webhook
from sync.errors import WebhookRejected

MAX_BODY = 1_000_000


def handle_stripe_webhook(
    payload: bytes, signature: str | None, *, secret: str, rt: Runtime
) -> tuple[int, str]:
    """Returns (HTTP status, body): 400 for anything unsigned, stale or malformed."""
    try:
        event = verify_webhook(payload, signature, secret, max_body=MAX_BODY)
    except WebhookRejected as rejected:
        return reject_webhook(rejected.reason)
    return receive_webhook(rt, event)
