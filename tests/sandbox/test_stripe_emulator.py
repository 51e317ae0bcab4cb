"""The Stripe emulator through stripe-python over HTTP: wire format, errors, idempotency, events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from sandbox.server import ServedApp
from sandbox.stripe import StripeEmulator
from tests.reference import reference_file

START = 1_767_225_600  # 2026-01-01T00:00:00Z
# Stripe's published examples; the emulator ships a copy of the ones it serves.
REFERENCE = reference_file("stripe-fixtures3.json")
if not REFERENCE.exists():
    REFERENCE = Path(__file__).resolve().parents[2] / "sandbox" / "stripe" / "fixtures.json"


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(start_time=START) as emulator:
        yield emulator
        assert not emulator.failures, emulator.failures[0]


@pytest.fixture
def client(emu: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url},
                               max_network_retries=3)


def paying_customer(client: stripe.StripeClient, card: str = "pm_card_visa",
                    **params: Any) -> stripe.Customer:
    cus = client.v1.customers.create(params={"email": "ap@acme.test", **params})
    pm = client.v1.payment_methods.attach(card, params={"customer": cus.id})
    return client.v1.customers.update(
        cus.id, params={"invoice_settings": {"default_payment_method": pm.id}})


def monthly_price(client: stripe.StripeClient, amount: int = 2000, **recurring: Any) -> str:
    prod = client.v1.products.create(params={"name": "Seat"})
    return client.v1.prices.create(params={
        "product": prod.id, "currency": "usd", "unit_amount": amount,
        "recurring": {"interval": "month", **recurring}}).id


def test_every_served_object_carries_its_fixture_fields(
        emu: StripeEmulator, client: stripe.StripeClient) -> None:
    emu.add_webhook_endpoint("http://127.0.0.1:9/unreachable")
    cus = paying_customer(client)
    sub = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": monthly_price(client)}]})
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 500, "credit_amount": 500})
    client.v1.refunds.create(params={"charge": client.v1.charges.list().data[0].id,
                                     "amount": 100})
    client.v1.invoice_items.create(params={"customer": cus.id, "amount": 700, "currency": "usd"})
    reference = json.loads(REFERENCE.read_text())["resources"]
    served = {
        "customer", "product", "price", "subscription", "subscription_item", "invoice",
        "line_item", "invoiceitem", "invoice_payment", "payment_intent", "charge",
        "balance_transaction", "refund", "credit_note", "credit_note_line_item",
        "customer_balance_transaction", "event", "webhook_endpoint", "payment_method",
    }
    seen = set()
    for kind in served:
        objects = emu.objects(kind)
        if kind == "line_item":
            objects = [ln for i in emu.objects("invoice") for ln in i["lines"]["data"]]
        if kind == "credit_note_line_item":
            objects = [ln for c in emu.objects("credit_note") for ln in c["lines"]["data"]]
        assert objects, kind
        for obj in objects:
            missing = set(reference[kind]) - set(obj)
            assert not missing, (kind, missing)
            assert obj["object"] == reference[kind]["object"]
        seen.add(kind)
    # and over the wire, nested objects included
    wire = client.v1.subscriptions.retrieve(sub.id).to_dict()
    assert set(reference["subscription"]) <= set(wire)
    assert set(reference["subscription_item"]) <= set(wire["items"]["data"][0])
    assert "current_period_end" not in wire
    event = client.v1.events.list().data[0].to_dict()
    assert set(reference["event"]) <= set(event)
    assert seen == served


def test_customers_products_prices_and_search(client: stripe.StripeClient) -> None:
    for n in range(12):
        client.v1.customers.create(params={"email": f"c{n}@acme.test",
                                           "metadata": {"deal": str(n % 3)}})
    page = client.v1.customers.list()
    assert len(page.data) == 10 and page.has_more and page.url == "/v1/customers"
    assert page.data[0].email == "c11@acme.test"  # newest first
    rest = client.v1.customers.list(params={"starting_after": page.data[-1].id})
    assert [c.email for c in rest.data] == ["c1@acme.test", "c0@acme.test"]
    assert not rest.has_more
    assert len(list(client.v1.customers.list(params={"limit": 5}).auto_paging_iter())) == 12
    found = client.v1.customers.search(params={"query": "metadata['deal']:'1'"})
    assert found.object == "search_result"
    assert sorted(c.email for c in found.data) == ["c10@acme.test", "c1@acme.test",
                                                  "c4@acme.test", "c7@acme.test"]
    both = client.v1.customers.search(
        params={"query": "email:'c4@acme.test' OR email:'c5@acme.test'"})
    assert len(both.data) == 2
    none = client.v1.customers.search(
        params={"query": "email:'c4@acme.test' AND metadata['deal']:'2'"})
    assert none.data == []
    cus = client.v1.customers.update(found.data[0].id, params={"name": "Acme",
                                                               "metadata": {"deal": ""}})
    assert cus.name == "Acme" and cus.metadata.to_dict() == {}
    prod = client.v1.products.create(params={"name": "Platform"})
    annual = client.v1.prices.create(params={
        "product": prod.id, "currency": "USD", "unit_amount": 120000,
        "recurring": {"interval": "year"}})
    assert (annual.currency, annual.type, annual.recurring.interval) == ("usd", "recurring", "year")
    one_off = client.v1.prices.create(params={"product_data": {"name": "Setup"},
                                              "currency": "usd", "unit_amount": 5000})
    assert one_off.type == "one_time" and one_off.recurring is None
    assert client.v1.prices.list(params={"product": prod.id}).data[0].id == annual.id


def test_errors_have_stripe_shapes(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.create(params={"email": "a@b.c", "nmae": "typo"})
    assert (unknown.value.http_status, unknown.value.code, unknown.value.param) == (
        400, "parameter_unknown", "nmae")
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.subscriptions.create(params={"customer": "cus_x",
                                               "items": [{"price": "p", "qty": 1}]})
    assert nested.value.param == "items[0][qty]"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.create(params={})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "name")
    with pytest.raises(stripe.InvalidRequestError) as not_int:
        client.v1.invoice_items.create(params={"customer": "cus_x", "amount": "ten",
                                              "currency": "usd"})
    assert not_int.value.code == "parameter_invalid_integer"
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(params={"amount": 20, "currency": "usd"})
    assert small.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as inline:
        client.v1.invoice_items.create(params={
            "customer": "cus_x", "price_data": {"currency": "usd", "unit_amount": 1,
                                                "product_data": {"name": "x"}}})
    assert inline.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as expand:
        client.v1.customers.create(params={"expand": ["email"]})
    assert "cannot be expanded" in str(expand.value.user_message)
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_wrong", base_addresses={"api": emu.url}).v1.customers.list()
    raw = httpx.get(f"{emu.url}/v1/customers/cus_nope",
                    headers={"Authorization": f"Bearer {emu.api_key}"})
    assert raw.status_code == 404 and raw.headers["Request-Id"].startswith("req_")
    error = raw.json()["error"]
    assert set(error) >= {"type", "code", "message", "param", "doc_url", "request_log_url"}
    assert (error["code"], error["message"], error["param"]) == (
        "resource_missing", "No such customer: 'cus_nope'", "id")
    assert httpx.get(f"{emu.url}/v1/customers").status_code == 401
    assert emu.calls["GET /v1/customers/:id"] == 1


def test_idempotency_replays_and_conflicts(emu: StripeEmulator,
                                           client: stripe.StripeClient) -> None:
    headers = {"Authorization": f"Bearer {emu.api_key}", "Idempotency-Key": "k-1"}
    first = httpx.post(f"{emu.url}/v1/customers", data={"email": "a@b.c"}, headers=headers)
    again = httpx.post(f"{emu.url}/v1/customers", data={"email": "a@b.c"}, headers=headers)
    assert again.status_code == first.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    clash = httpx.post(f"{emu.url}/v1/customers", data={"email": "other@b.c"}, headers=headers)
    assert clash.status_code == 400 and clash.json()["error"]["type"] == "idempotency_error"
    options = {"idempotency_key": "decline-1"}
    cus = paying_customer(client, "pm_card_chargeDeclined")
    params = {"amount": 1000, "currency": "usd", "customer": cus.id, "confirm": True,
              "payment_method": cus.invoice_settings.default_payment_method}
    for _ in range(2):  # the 402 is saved and replayed, not re-executed
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.create(params=params, options=options)
    assert len(emu.objects("charge")) == 1
    assert len(emu.objects("customer")) == 2
    emu.advance(days=1, seconds=1)  # keys expire after 24 h
    later = httpx.post(f"{emu.url}/v1/customers", data={"email": "a@b.c"}, headers=headers)
    assert later.json()["id"] != first.json()["id"]


def test_concurrent_requests(emu: StripeEmulator, client: stripe.StripeClient) -> None:
    ids: list[str] = []

    def create(key: str) -> None:
        cus = client.v1.customers.create(params={"email": "x@y.z"},
                                         options={"idempotency_key": key})
        ids.append(cus.id)

    threads = [threading.Thread(target=create, args=(f"distinct-{n}",)) for n in range(8)]
    threads += [threading.Thread(target=create, args=("shared",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 16
    assert len(set(ids)) == 9  # 8 distinct keys + 1 shared
    assert len(emu.objects("customer")) == 9


def test_events_list_filter_and_paginate(emu: StripeEmulator,
                                         client: stripe.StripeClient) -> None:
    for n in range(7):
        client.v1.customers.create(params={"name": f"n{n}"})
    client.v1.products.create(params={"name": "p"})
    created = client.v1.events.list(params={"type": "customer.created", "limit": 3})
    assert len(created.data) == 3 and created.has_more
    assert created.data[0].data.object.name == "n6"
    everything = list(client.v1.events.list(params={"limit": 2}).auto_paging_iter())
    assert [e.type for e in everything].count("customer.created") == 7
    typed = client.v1.events.list(params={"types": ["product.created"]})
    assert [e.type for e in typed.data] == ["product.created"]
    wildcard = client.v1.events.list(params={"type": "product.*"})
    assert len(wildcard.data) == 1
    assert client.v1.events.list(params={"created": {"gt": START}}).data == []
    evt = client.v1.events.retrieve(everything[0].id)
    assert evt.request.id and evt.request.idempotency_key


def test_webhooks_are_signed_and_retried(emu: StripeEmulator,
                                         client: stripe.StripeClient) -> None:
    received: list[stripe.Event] = []
    failing = {"on": True}

    def receiver(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if failing["on"]:
            start_response("500 Internal Server Error", [])
            return [b"down"]
        received.append(stripe.Webhook.construct_event(
            body.decode(), environ["HTTP_STRIPE_SIGNATURE"], secret))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with ServedApp(receiver) as hook:
        secret = emu.add_webhook_endpoint(f"{hook.url}/stripe", ["customer.*"])
        cus = client.v1.customers.create(params={"email": "hook@acme.test"})
        client.v1.products.create(params={"name": "not subscribed"})
        assert emu.flush_webhooks()
        assert [d["status"] for d in emu.deliveries] == [500]
        assert client.v1.events.list().data[1].pending_webhooks == 1
        failing["on"] = False
        emu.advance(seconds=3600)
        assert emu.flush_webhooks()
    assert [e.type for e in received] == ["customer.created"]
    assert received[0].data.object.id == cus.id
    assert [(d["attempt"], d["delivered"]) for d in emu.deliveries] == [(1, False), (2, True)]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event("{}", "t=1,v1=bad", secret)


def test_global_api_base_style(emu: StripeEmulator) -> None:
    saved = (stripe.api_key, stripe.api_base)
    stripe.api_key, stripe.api_base = emu.api_key, emu.url
    try:
        cus = stripe.Customer.create(email="global@acme.test")
        assert stripe.Customer.retrieve(cus.id).email == "global@acme.test"
    finally:
        stripe.api_key, stripe.api_base = saved


def test_payment_intents_direct(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 10000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "expand": ["latest_charge.balance_transaction"]})
    assert pi.status == "succeeded" and pi.amount_received == 10000
    txn = pi.latest_charge.balance_transaction
    assert (txn.fee, txn.net, txn.available_on - txn.created) == (320, 9680, 2 * 86400)
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclined",
            "confirm": True})
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    charge = client.v1.charges.list(params={"limit": 1}).data[0]
    assert charge.status == "failed" and charge.balance_transaction is None
