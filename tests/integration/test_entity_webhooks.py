"""Stripe webhooks of the legal entities' own accounts, over HTTP with signed requests.

Stripe signs each endpoint's deliveries with that endpoint's own secret: the company's
account's endpoint with STRIPE_WEBHOOK_SECRET, the platform's Connect endpoint (events of every
connected account, each naming its `account`) with STRIPE_CONNECT_WEBHOOK_SECRET. The endpoint
accepts a delivery signed with any configured secret and reads the event's invoice in the
Stripe account it happened in; anything else is refused, and an account no entity owns is
acknowledged and logged, not booked.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.http_server import serve
from app.jobs import sync_once
from app.stripe_webhooks import Endpoint, endpoints
from app.wiring import build_runtime
from sandbox.book import BookSeeder
from sandbox.stack import SandboxStack
from sandbox.stripe.events import sign
from storage.db import transaction
from storage.ops_tables import WebhookEvent
from storage.tables import BillingInvoice
from sync.engine.runtime import Runtime
from tests.integration.conftest import make_settings
from tests.integration.test_entities import ENTITIES, UK_ACCOUNT, US_ACCOUNT, _deals

PLATFORM, CONNECT, OTHER = "whsec_platform_1", "whsec_connect_1", "whsec_someone_else"


@pytest.fixture
def routed(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    seeder = BookSeeder(stack.salesforce)
    for spec in _deals()[:2]:  # Initrode (Acme Inc, USD) and Hooli UK (Acme Ltd, GBP)
        seeder.seed(spec)
    for account in (US_ACCOUNT, UK_ACCOUNT):
        stack.stripe.add_connected_account(account)
    rt = build_runtime(make_settings(stack, db_url, entities=ENTITIES,
                                     stripe_webhook_secret=PLATFORM,
                                     stripe_connect_webhook_secret=CONNECT), sessions)
    sync_once(rt)
    return rt


def _front(rt: Runtime, sessions: sessionmaker[Session],
           secrets: list[Endpoint]) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = serve(None, sessions, port=port, host="127.0.0.1", runtime=rt,
                   webhook_secret=secrets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/stripe/webhooks"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def front(routed: Runtime, sessions: sessionmaker[Session], stack: SandboxStack,
          db_url: str) -> Iterator[str]:
    settings = make_settings(stack, db_url, entities=ENTITIES, stripe_webhook_secret=PLATFORM,
                             stripe_connect_webhook_secret=CONNECT)
    yield from _front(routed, sessions, endpoints(settings, routed.config.entities))


def _paid_uk_invoice(stack: SandboxStack, account: str = UK_ACCOUNT) -> dict[str, Any]:
    """Hooli UK pays its GBP 60,000.00 invoice in Acme Ltd's Connect account (or Initrode its
    USD 120,000.00 in Acme Inc's)."""
    (invoice,) = stack.stripe.account(account).objects("invoice")
    client = stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})
    client.v1.invoices.pay(invoice["id"], {"paid_out_of_band": True},
                           options={"stripe_account": account})
    (paid,) = stack.stripe.account(account).objects("invoice")
    return dict(paid)


def _deliver(url: str, event: dict[str, Any], secret: str) -> tuple[int, str]:
    payload = json.dumps(event)
    response = httpx.post(url, content=payload.encode(), headers={
        "Stripe-Signature": sign(payload, secret, int(time.time())),
        "Content-Type": "application/json"})
    return response.status_code, response.text


def _event(event_id: str, invoice: dict[str, Any], account: str | None) -> dict[str, Any]:
    event = {"id": event_id, "object": "event", "type": "invoice.paid",
             "created": int(time.time()), "data": {"object": invoice},
             "api_version": "2025-01-27.acacia"}
    return {**event, "account": account} if account else event


def _mirror(sessions: sessionmaker[Session], invoice_id: str) -> tuple[str, int]:
    with transaction(sessions) as session:
        row = session.get(BillingInvoice, invoice_id)
        assert row is not None
        return row.status, row.amount_remaining_minor


def _recorded(sessions: sessionmaker[Session]) -> dict[str, str]:
    with transaction(sessions) as session:
        return {w.event_id: w.outcome for w in session.scalars(select(WebhookEvent))}


def test_a_connect_event_signed_with_the_connect_secret_reaches_its_entity(
        front: str, stack: SandboxStack, sessions: sessionmaker[Session]) -> None:
    """The Connect endpoint's delivery of Acme Ltd's `invoice.paid`: accepted, the invoice read
    in Acme Ltd's account (the platform has no such invoice), the mirror shows it paid (GBP
    0.00 left of 60,000.00); delivered again, nothing is applied twice."""
    invoice = _paid_uk_invoice(stack)
    assert _mirror(sessions, invoice["id"]) == ("open", 6_000_000)
    event = _event("evt_1ConnectUK0001", {**invoice, "status": "paid", "amount_remaining": 0},
                   UK_ACCOUNT)
    assert _deliver(front, event, CONNECT) == (200, "applied")
    assert _mirror(sessions, invoice["id"]) == ("paid", 0)
    assert _deliver(front, event, CONNECT) == (200, "duplicate")
    assert _recorded(sessions) == {"evt_1ConnectUK0001": "applied"}


def test_every_configured_secret_is_accepted_and_no_other(
        front: str, stack: SandboxStack, sessions: sessionmaker[Session]) -> None:
    invoice = _paid_uk_invoice(stack)
    # Signed by no endpoint closebot knows: refused, nothing recorded.
    assert _deliver(front, _event("evt_1Forged0000001", invoice, UK_ACCOUNT), OTHER)[0] == 400
    # The company's endpoint's secret is still accepted (its events name no account; the
    # invoice is read where its deal's entity bills).
    us = _paid_uk_invoice(stack, US_ACCOUNT)
    assert _deliver(front, _event("evt_1Platform00001", us, None), PLATFORM) == (
        200, "applied")
    # A Connect delivery must name its account.
    assert _deliver(front, _event("evt_1NoAccount0001", invoice, None), CONNECT)[0] == 400
    # Another business's connected account on the same platform: acknowledged, not booked.
    status, body = _deliver(front, _event("evt_1Stranger00001", invoice,
                                          "acct_1SomeoneElse0001"), CONNECT)
    assert (status, body) == (200, "unknown_account")
    assert _recorded(sessions) == {"evt_1Platform00001": "applied"}
    assert _mirror(sessions, invoice["id"]) == ("open", 6_000_000)


def test_an_entitys_own_endpoint_reads_in_its_own_account(
        routed: Runtime, stack: SandboxStack, sessions: sessionmaker[Session]) -> None:
    """An entity with its own key has its own endpoint and secret: its deliveries name no
    account and are read in that entity's account."""
    own = [Endpoint(PLATFORM), Endpoint("whsec_acme_ltd_1", entity="Acme Ltd")]
    url_of = _front(routed, sessions, own)
    url = next(url_of)
    try:
        invoice = _paid_uk_invoice(stack)
        assert _deliver(url, _event("evt_1OwnUK00000001", invoice, None),
                        "whsec_acme_ltd_1") == (200, "applied")
        assert _mirror(sessions, invoice["id"]) == ("paid", 0)
    finally:
        next(url_of, None)
