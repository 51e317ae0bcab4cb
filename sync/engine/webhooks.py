"""Webhook deliveries of billing events, and the reconciliation read that backs them up.

Stripe may deliver an event twice and in any order, and may never deliver one at all. So, once
the connector has verified a delivery: de-duplicate by event id, treat the event only as a hint
and re-read the object's current state (`apply_event` does), and periodically re-read every
invoice closebot still considers open (`reconcile_open_invoices`).
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import transaction
from storage.ops_tables import WebhookEvent
from storage.tables import BillingInvoice
from sync.engine.billing_events import apply_event, refresh_invoice
from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import Runtime
from sync.engine.telemetry import METRICS, correlation
from sync.errors import TransientError
from sync.ports import Billing, BillingEvent

log = logging.getLogger("closebot.webhooks")


def receive_webhook(rt: Runtime, event: BillingEvent, *,
                    billing: Billing | None = None) -> tuple[int, str]:
    """Apply one verified delivery; returns (HTTP status, body). 503 when the object can't be
    re-read now, so that Stripe delivers again later. `billing` is the Stripe account the
    delivery came from (a legal entity's), when the endpoint or the event names it."""
    with correlation(stripe_event=event.id, job="webhook"):
        with transaction(rt.sessions) as session:
            if session.get(WebhookEvent, event.id) is not None:
                METRICS.inc("closebot_webhooks_total", outcome="duplicate")
                return 200, "duplicate"
        try:
            outcome = apply_event(rt, event, billing=billing)
        except TransientError as error:
            log.warning("webhook deferred: %s", error.reason)
            METRICS.inc("closebot_webhooks_total", outcome="deferred")
            return 503, "try again"
        except Exception as error:
            # A signed event closebot can't read is recorded, not retried forever.
            log.warning("webhook unprocessable", extra={"error": repr(error)[:300]})
            outcome = "unprocessable"
        try:
            with transaction(rt.sessions) as session:
                session.add(WebhookEvent(event_id=event.id, type=event.type[:120],
                                         outcome=outcome))
        except IntegrityError:
            pass  # a concurrent delivery of the same event recorded it first; both were idempotent
        METRICS.inc("closebot_webhooks_total", outcome=outcome)
        log.info("webhook applied", extra={"event_type": event.type, "outcome": outcome})
        return 200, outcome


def reject_webhook(reason: str) -> tuple[int, str]:
    METRICS.inc("closebot_webhooks_total", outcome="rejected")
    log.warning("webhook rejected: %s", reason)
    return 400, reason


def reconcile_open_invoices(rt: Runtime, *, limit: int = 500) -> Counter[str]:
    """Re-read invoices the mirror still shows as draft, open or uncollectible (which can still
    be paid or voided) and apply any change.

    Catches a payment, void or finalization whose event never arrived, by webhook or by poll.
    """
    counts: Counter[str] = Counter()
    with transaction(rt.sessions) as session:
        rows = session.execute(
            select(BillingInvoice.billing_id, BillingInvoice.status,
                   BillingInvoice.amount_remaining_minor, BillingInvoice.opportunity_id)
            .where(BillingInvoice.status.in_(("draft", "open", "uncollectible")))
            .order_by(BillingInvoice.updated_at).limit(limit)
        ).all()
        # An entity's invoices are in its own Stripe account.
        entities = entities_of(session, [r[3] for r in rows]) if rt.entity_billing else {}
    for billing_id, status, remaining, opp in rows:
        current = rt.billing_for(entities.get(opp or "")).invoice(billing_id)
        if current.status.value == status and current.amount_remaining_minor == remaining:
            counts["unchanged"] += 1
            continue
        with transaction(rt.sessions) as session:
            counts[refresh_invoice(session, current)] += 1
    return counts
