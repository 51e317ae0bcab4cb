"""`POST /stripe/webhooks`, framework-free: the Stripe connector verifies the delivery, the engine
applies it.

Each Stripe webhook endpoint signs with its own secret (docs/entities.md): the company's
account's endpoint (STRIPE_WEBHOOK_SECRET), the platform's Connect endpoint, whose events each
name the connected account they happened in (STRIPE_CONNECT_WEBHOOK_SECRET), and the endpoint of
each legal entity with its own key (its `stripe_webhook_secret_env`). A delivery signed by any
of them is accepted and read in the Stripe account it came from.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from app.settings import Settings
from sync.connectors.stripe_events import StripeEvent, verify_any
from sync.contracts.entities import Entities
from sync.engine.runtime import Runtime
from sync.engine.telemetry import METRICS
from sync.engine.webhooks import receive_webhook, reject_webhook
from sync.errors import WebhookRejected

MAX_BODY = 1_000_000
log = logging.getLogger("closebot.webhooks")


@dataclass(frozen=True)
class Endpoint:
    """A Stripe webhook endpoint's signing secret, and whose events it delivers."""

    secret: str
    entity: str | None = None  # a legal entity's own account's endpoint
    connect: bool = False  # the platform's Connect endpoint: each event names its account


def endpoints(settings: Settings, entities: Entities) -> list[Endpoint]:
    """Every configured endpoint's secret; empty when none is (events are then polled)."""
    found = []
    if settings.stripe_webhook_secret:
        found.append(Endpoint(settings.stripe_webhook_secret.get_secret_value()))
    if settings.stripe_connect_webhook_secret:
        found.append(Endpoint(settings.stripe_connect_webhook_secret.get_secret_value(),
                              connect=True))
    for entity in entities.entities:
        secret = os.environ.get(entity.stripe_webhook_secret_env or "", "").strip()
        if secret:
            found.append(Endpoint(secret, entity=entity.name))
    return [e for e in found if e.secret]


def handle_stripe_webhook(
    payload: bytes, signature: str | None, *, secret: str | Sequence[Endpoint], rt: Runtime
) -> tuple[int, str]:
    """Returns (HTTP status, body): 400 for anything unsigned, stale or malformed."""
    known = [Endpoint(secret)] if isinstance(secret, str) else list(secret)
    try:
        event, signer = verify_any(payload, signature, [e.secret for e in known],
                                   max_body=MAX_BODY)
    except WebhookRejected as rejected:
        return reject_webhook(rejected.reason)
    endpoint = known[signer]
    if endpoint.entity is not None:
        return receive_webhook(rt, event, billing=rt.billing_for(endpoint.entity))
    if not event.account:
        if endpoint.connect:
            return reject_webhook("a Connect endpoint's event names no account")
        return receive_webhook(rt, event)
    return _connected(rt, event)


def _connected(rt: Runtime, event: StripeEvent) -> tuple[int, str]:
    """An event of a connected account, read in the account of the entity that owns it. An
    account no entity names is another business's on the same platform: acknowledged, so
    Stripe stops sending it, and logged with its account."""
    entity = next((e.name for e in rt.config.entities.entities
                   if e.stripe_account == event.account), None)
    if entity is None or entity not in rt.entity_billing:
        log.warning("webhook of Stripe account %s ignored: no entity in ENTITIES has that "
                    "stripe_account", event.account, extra={"stripe_event": event.id})
        METRICS.inc("closebot_webhooks_total", outcome="unknown_account")
        return 200, "unknown_account"
    return receive_webhook(rt, event, billing=rt.entity_billing[entity])
