"""`POST /stripe/webhooks`: signed, de-duplicated, order-independent; reconciliation catches
what never arrived. Real stripe-python against the Stripe emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.settings import Settings
from app.stripe_webhooks import handle_stripe_webhook
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from sandbox.stripe.events import sign
from storage.db import transaction
from storage.ops_tables import PaymentInvoice, WebhookEvent
from storage.tables import BillingInvoice
from sync.engine.runtime import Runtime
from sync.engine.webhooks import reconcile_open_invoices
from sync.ports import EventPage
from tests.integration.cash import pay

SECRET = "whsec_test_secret"


@pytest.fixture
def synced(db_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[SandboxStack, Runtime]]:
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in demo_deals():
            seeder.seed(deal)
        settings = Settings(database_url=db_url, **stack.settings_overrides())
        rt = build_runtime(settings, sessions)
        sync_once(rt)
        yield stack, rt


def _event(stack: SandboxStack, invoice_id: str, event_id: str, kind: str) -> dict[str, Any]:
    invoice = next(i for i in stack.stripe.objects("invoice") if i["id"] == invoice_id)
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
            "data": {"object": invoice}, "api_version": "2025-01-27.acacia"}


def _post(rt: Runtime, body: dict[str, Any] | bytes, *, at: int | None = None,
          secret: str = SECRET) -> tuple[int, str]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = sign(payload.decode(), secret, at or int(time.time()))
    return handle_stripe_webhook(payload, signature, secret=SECRET, rt=rt)


def _mirror(rt: Runtime, invoice_id: str) -> BillingInvoice:
    with transaction(rt.sessions) as session:
        row = session.get(BillingInvoice, invoice_id)
        assert row is not None
        return row


def _open_invoice(rt: Runtime) -> str:
    with transaction(rt.sessions) as session:
        return session.scalars(select(BillingInvoice.billing_id)
                               .where(BillingInvoice.status == "open")).first() or ""


def _pay(stack: SandboxStack, invoice_id: str) -> None:
    import stripe

    client = stripe.StripeClient(stack.stripe.api_key,
                                 base_addresses={"api": stack.stripe.url})
    client.v1.invoices.pay(invoice_id, {"paid_out_of_band": True})


def test_bad_and_stale_signatures_are_rejected(synced: tuple[SandboxStack, Runtime]) -> None:
    stack, rt = synced
    event = _event(stack, _open_invoice(rt), "evt_bad", "invoice.paid")
    assert _post(rt, event, secret="whsec_wrong")[0] == 400
    assert _post(rt, event, at=int(time.time()) - 600)[0] == 400
    payload = json.dumps(event).encode()
    assert handle_stripe_webhook(payload, None, secret=SECRET, rt=rt)[0] == 400
    with transaction(rt.sessions) as session:
        assert session.scalars(select(WebhookEvent)).all() == []


def test_duplicates_and_out_of_order_events_settle_on_the_current_state(
    synced: tuple[SandboxStack, Runtime],
) -> None:
    stack, rt = synced
    invoice_id = _open_invoice(rt)
    finalized = _event(stack, invoice_id, "evt_1", "invoice.finalized")
    _pay(stack, invoice_id)
    paid = _event(stack, invoice_id, "evt_2", "invoice.paid")
    # The later event first, then the earlier one, then the later one again.
    assert _post(rt, paid) == (200, "applied")
    assert _post(rt, finalized)[1] in {"stale", "applied"}
    assert _post(rt, paid) == (200, "duplicate")
    row = _mirror(rt, invoice_id)
    assert (row.status, row.amount_remaining_minor) == ("paid", 0)


def test_reconciliation_catches_an_event_that_never_arrived(
    synced: tuple[SandboxStack, Runtime],
) -> None:
    stack, rt = synced
    invoice_id = _open_invoice(rt)
    _pay(stack, invoice_id)  # no webhook, no poll
    counts = reconcile_open_invoices(rt)
    assert counts["applied"] >= 1
    assert _mirror(rt, invoice_id).status == "paid"


def test_polling_takes_the_newest_of_events_in_the_same_second(
    synced: tuple[SandboxStack, Runtime],
) -> None:
    from sync.engine.billing_events import poll_events

    stack, rt = synced
    poll_events(rt)  # past what the first run made
    invoice_id = _open_invoice(rt)
    _pay(stack, invoice_id)
    listed = rt.billing.events

    def one_second(**kwargs: Any) -> EventPage:
        # Every event in one second, with ids that sort the other way round from their order:
        # only the listing's order says which came last.
        page = listed(**kwargs)
        second = page.events[0].created if page.events else 0
        return EventPage([replace(e, created=second, id=f"evt_{n:04d}")  # type: ignore[type-var]
                          for n, e in enumerate(page.events)], page.has_more)

    rt.billing.events = one_second  # type: ignore[method-assign]
    assert poll_events(rt)["applied"] == 1
    row = _mirror(rt, invoice_id)
    assert (row.status, row.amount_remaining_minor) == ("paid", 0)


def test_a_payments_invoice_is_kept_once_from_poll_and_webhook(synced) -> None:
    """Each paid invoice payment's (payment intent, invoice), as the cash run needs it for a
    refund or a dispute: kept by the events poll, and a webhook delivery of the same event (or a
    duplicate of it) keeps nothing new."""
    stack, rt = synced
    payable = [i for i in stack.stripe.objects("invoice") if i["status"] == "open"]
    for invoice in payable[:2]:  # paid by card, as a customer would
        pay(stack, invoice["id"])
    sync_once(rt)  # the events poll
    paid = {(p["payment"]["payment_intent"], p["invoice"])
            for p in stack.stripe.objects("invoice_payment")
            if p["status"] == "paid" and p["payment"].get("type") == "payment_intent"}
    assert paid, "the demo book pays some invoices by card"
    with transaction(rt.sessions) as session:
        kept = {(r.payment_id, r.invoice_id) for r in session.scalars(select(PaymentInvoice))}
    assert kept == paid
    intent, invoice = sorted(paid)[0]
    row = next(p for p in stack.stripe.objects("invoice_payment")
               if p["payment"].get("payment_intent") == intent)
    event = {"id": "evt_inpay_1", "object": "event", "type": "invoice_payment.paid",
             "created": int(time.time()), "data": {"object": row},
             "api_version": "2025-03-31.basil"}
    assert _post(rt, event) == (200, "remembered")
    assert _post(rt, event) == (200, "duplicate")
    with transaction(rt.sessions) as session:
        assert session.scalar(select(PaymentInvoice.invoice_id)
                              .where(PaymentInvoice.payment_id == intent)) == invoice
        assert len(list(session.scalars(select(PaymentInvoice)))) == len(paid)
