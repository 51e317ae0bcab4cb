"""The HTTP front: Stripe webhooks apply payments end to end; health and metrics answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import stripe
from sqlalchemy.orm import Session, sessionmaker

from app.http_server import serve
from app.jobs import run_job, sync_once
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice
from sync.engine.runtime import Runtime
from sync.ledger import Ledger


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def front(stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    secret = stack.stripe.add_webhook_endpoint(f"{url}/stripe/webhooks")
    server = serve(None, sessions, port=port, host="127.0.0.1", runtime=runtime,
                   webhook_secret=secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)


def test_a_payment_webhook_reaches_the_ledger_and_salesforce(
    front: str, stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    sync_once(runtime)
    (invoice,) = stack.stripe.objects("invoice")
    client = stripe.StripeClient(stack.stripe.api_key,
                                 base_addresses={"api": stack.stripe.url})
    client.v1.invoices.pay(invoice["id"], {"paid_out_of_band": True})
    assert stack.stripe.flush_webhooks()
    assert any(d.get("status") == 200 for d in stack.stripe.deliveries)

    run_job(runtime, "worker")
    with transaction(sessions) as session:
        row = session.get(BillingInvoice, invoice["id"])
        assert row is not None and (row.status, row.amount_remaining_minor) == ("paid", 0)
    ledger = Ledger(sessions)
    assert ledger.account_balance("1100", "USD") == 0
    assert ledger.account_balance("1200", "USD") == 12_000_000
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Invoice_Status__c"] == "Paid"
    assert record["Payment_Date__c"] is not None
    assert record["Outstanding_Balance__c"] == 0

    # The same events again (Stripe retries, or the poller sees them) post nothing new.
    sync_once(runtime)
    assert ledger.account_balance("1200", "USD") == 12_000_000


def test_unsigned_or_forged_webhooks_are_refused(front: str) -> None:
    body = b'{"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}'
    assert httpx.post(f"{front}/stripe/webhooks", content=body).status_code == 400
    forged = httpx.post(f"{front}/stripe/webhooks", content=body,
                        headers={"Stripe-Signature": "t=1,v1=deadbeef"})
    assert forged.status_code == 400


def test_health_and_metrics(front: str, runtime: Runtime, stack: SandboxStack) -> None:
    BookSeeder(stack.salesforce).seed(demo_deals()[3])
    sync_once(runtime)
    health = httpx.get(f"{front}/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    metrics = httpx.get(f"{front}/metrics").text
    assert "# TYPE" in metrics and "closebot_" in metrics
    assert httpx.get(f"{front}/slack/events").status_code == 404
