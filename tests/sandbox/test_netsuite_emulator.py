"""The NetSuite emulator over HTTPS with httpx and an OAuth 1.0a (TBA, HMAC-SHA256) signer:
authentication, the record service, transaction rules, SuiteQL and concurrency governance."""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from sandbox.netsuite import NetSuiteEmulator

REC = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
TRANSIENT = {"Prefer": "transient"}
USD, GBP, EUR, JPY = {"id": "1"}, {"id": "2"}, {"id": "4"}, {"id": "6"}


class TokenAuth(httpx.Auth):
    """Signs each request as NetSuite TBA does; the overrides forge the broken variants."""

    def __init__(self, emu: NetSuiteEmulator, **overrides: Any) -> None:
        self.emu = emu
        self.overrides = overrides

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        o = self.overrides
        client = Client(
            o.get("consumer_key", self.emu.consumer_key),
            client_secret=o.get("consumer_secret", self.emu.consumer_secret),
            resource_owner_key=o.get("token_id", self.emu.token_id),
            resource_owner_secret=o.get("token_secret", self.emu.token_secret),
            signature_method=o.get("signature_method", SIGNATURE_HMAC_SHA256),
            realm=o.get("realm", self.emu.account_id),
            timestamp=o.get("timestamp") or _skewed(o.get("skew")),
            nonce=o.get("nonce"),
        )
        _, headers, _ = client.sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def _skewed(skew: int | None) -> str | None:
    # Taken when the request is signed: a parameter list is built long before its test runs.
    return None if skew is None else str(int(time.time()) + skew)


def connect(emu: NetSuiteEmulator, **overrides: Any) -> httpx.Client:
    return httpx.Client(base_url=emu.url, verify=trust(emu), auth=TokenAuth(emu, **overrides),
                        timeout=10)


def trust(emu: NetSuiteEmulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(emu.ca_bundle))


@pytest.fixture(scope="module")
def emu() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def ns(emu: NetSuiteEmulator) -> Iterator[httpx.Client]:
    with connect(emu) as client:
        yield client


def decoded(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/vnd.oracle.resource+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://www.rfc-editor.org/")
    detail = body["o:errorDetails"][0]
    assert detail["o:errorCode"] == code, detail
    return detail


def create(ns: httpx.Client, record_type: str, body: dict[str, Any]) -> str:
    response = send(ns, "POST", f"{REC}/{record_type}", body)
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def customer(ns: httpx.Client, name: str, currency: dict[str, str] = USD, **extra: Any) -> str:
    return create(ns, "customer", {"companyName": name, "currency": currency, **extra})


def item(ns: httpx.Client, item_id: str = "Subscription") -> str:
    return create(ns, "serviceSaleItem", {"itemId": item_id})


def lines(item_id: str, *amounts: str) -> dict[str, Any]:
    return {"items": [{"item": {"id": item_id}, "amount": Decimal(a)} for a in amounts]}


def invoice(ns: httpx.Client, cust: str, item_id: str, *amounts: str,
            currency: dict[str, str] = USD) -> str:
    return create(ns, "invoice", {
        "entity": {"id": cust}, "currency": currency, "tranDate": "2026-01-15",
        "dueDate": "2026-02-14", "item": lines(item_id, *amounts)})


def exact(body: Any) -> str:
    """JSON text with Decimals written as exact numbers (the stdlib encoder can't)."""
    text = json.dumps(body, default=lambda value: f"@dec:{value}@")
    return re.sub(r'"@dec:([-0-9.E+]+)@"', r"\1", text)


def send(ns: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    raw = body if isinstance(body, str) else exact(body)
    return ns.request(method, url, content=raw, headers={"Content-Type": "application/json"})


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [
    {"consumer_secret": "not-the-secret"},
    {"token_id": "someone-elses-token"},
    {"consumer_key": "unknown-consumer"},
    {"skew": -301},
    {"skew": 400},
    {"realm": "7654321"},
    {"signature_method": SIGNATURE_HMAC_SHA1},
], ids=["bad-signature", "wrong-token", "unknown-consumer", "stale", "future", "wrong-realm",
        "hmac-sha1"])
def test_bad_credentials_are_invalid_login_and_do_nothing(
    emu: NetSuiteEmulator, overrides: dict[str, Any]
) -> None:
    before = emu.calls
    with connect(emu, **overrides) as bad:
        response = bad.post(f"{REC}/customer", json={"companyName": "Nope", "currency": USD})
    detail = error(response, 401, "INVALID_LOGIN")
    assert detail["detail"].startswith("Invalid login attempt.")
    assert not [c for c in emu.records("customer") if c["companyName"] == "Nope"]
    after = emu.calls
    assert after.get("unauthorized", 0) == before.get("unauthorized", 0) + 1
    assert after.get("POST customer", 0) == before.get("POST customer", 0)


def test_missing_or_malformed_header_is_invalid_login(emu: NetSuiteEmulator) -> None:
    with httpx.Client(base_url=emu.url, verify=trust(emu)) as anonymous:
        error(anonymous.get(f"{REC}/currency/1"), 401, "INVALID_LOGIN")
        error(anonymous.get(f"{REC}/currency/1", headers={"Authorization": "OAuth garbage"}),
              401, "INVALID_LOGIN")
        error(anonymous.get(f"{REC}/currency/1", headers={"Authorization": "Bearer x"}),
              401, "INVALID_LOGIN")


def test_replayed_nonce_is_refused(emu: NetSuiteEmulator) -> None:
    pinned = {"nonce": "fixednonce0123456789", "timestamp": str(int(time.time()))}
    with connect(emu, **pinned) as client:
        assert client.get(f"{REC}/currency/1").status_code == 200
        error(client.get(f"{REC}/currency/1"), 401, "INVALID_LOGIN")


def test_query_parameters_are_signed(emu: NetSuiteEmulator, ns: httpx.Client) -> None:
    assert ns.get(f"{REC}/currency", params={"limit": "2", "offset": "2"}).status_code == 200
    signed = ns.build_request("GET", f"{REC}/currency", params={"limit": "2"})
    flow = TokenAuth(emu).auth_flow(signed)
    request = next(flow)
    tampered = httpx.Request("GET", request.url.copy_set_param("limit", "3"),
                             headers=request.headers)
    with httpx.Client(verify=trust(emu)) as raw:
        error(raw.send(tampered), 401, "INVALID_LOGIN")


# -- record service ---------------------------------------------------------------------------


def test_upsert_by_external_id_twice_is_one_record(emu: NetSuiteEmulator,
                                                   ns: httpx.Client) -> None:
    body = {"companyName": "Upsert Co", "currency": USD, "externalId": "ignored-by-path"}
    first = ns.put(f"{REC}/customer/eid:sf-001", json=body)
    second = ns.put(f"{REC}/customer/eid:sf-001", json=body)
    assert first.status_code == second.status_code == 204
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].startswith(f"{emu.url}{REC}/customer/")
    matching = [c for c in emu.records("customer") if c.get("externalId") == "sf-001"]
    assert len(matching) == 1 and matching[0]["companyName"] == "Upsert Co"
    assert not [c for c in emu.records("customer") if c.get("externalId") == "ignored-by-path"]
    # An upsert of an existing record changes only the fields it carries.
    assert ns.put(f"{REC}/customer/eid:sf-001", json={"email": "ap@upsert.test"}).is_success
    got = ns.get(f"{REC}/customer/eid:sf-001").json()
    assert got["email"] == "ap@upsert.test" and got["companyName"] == "Upsert Co"
    assert emu.calls["PUT customer"] >= 3


def test_post_with_existing_external_id_is_dup_rcrd(emu: NetSuiteEmulator,
                                                    ns: httpx.Client) -> None:
    customer(ns, "Dup One", externalId="dup-1")
    count = len(emu.records("customer"))
    response = ns.post(f"{REC}/customer",
                       json={"companyName": "Dup Two", "currency": USD, "externalId": "dup-1"})
    assert error(response, 400, "DUP_RCRD")["o:errorPath"] == "externalId"
    assert len(emu.records("customer")) == count


def test_get_by_id_and_external_id(emu: NetSuiteEmulator, ns: httpx.Client) -> None:
    cust = customer(ns, "Get Co", GBP, externalId="get-1", email="ap@get.test")
    by_id = ns.get(f"{REC}/customer/{cust}").json()
    by_eid = ns.get(f"{REC}/customer/eid:get-1").json()
    assert by_id == by_eid == emu.get("customer", cust)
    assert by_id["links"] == [{"rel": "self", "href": f"{emu.url}{REC}/customer/{cust}"}]
    assert by_id["id"] == cust and by_id["externalId"] == "get-1"
    assert by_id["entityId"] == "Get Co" and by_id["isPerson"] is False
    assert by_id["currency"] == {"links": [{"rel": "self", "href": f"{emu.url}{REC}/currency/2"}],
                                 "id": "2", "refName": "British pound"}
    assert by_id["dateCreated"].endswith("Z") and "comments" not in by_id
    error(ns.get(f"{REC}/customer/999999"), 404, "NONEXISTENT_ID")
    error(ns.get(f"{REC}/customer/eid:nobody"), 404, "NONEXISTENT_ID")
    error(ns.get(f"{REC}/vendor/1"), 404, "NONEXISTENT_ID")
    assert emu.get("customer", "999999") is None


def test_list_paging(emu: NetSuiteEmulator) -> None:
    with NetSuiteEmulator() as fresh, connect(fresh) as client:
        ids = [item(client, f"Item {n}") for n in range(5)]
        first = client.get(f"{REC}/serviceSaleItem", params={"limit": 2}).json()
        assert [i["id"] for i in first["items"]] == ids[:2]
        assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (
            2, True, 0, 5)
        rels = {link["rel"]: link["href"] for link in first["links"]}
        assert rels["next"].endswith("?limit=2&offset=2") and "prev" not in rels
        assert rels["last"].endswith("?limit=2&offset=4")
        last = client.get(rels["last"]).json()
        assert [i["id"] for i in last["items"]] == ids[4:] and last["hasMore"] is False
        assert last["items"][0]["links"][0]["href"] == f"{fresh.url}{REC}/serviceSaleItem/{ids[4]}"
        assert {link["rel"] for link in last["links"]} == {"first", "prev", "self"}
        everything = client.get(f"{REC}/serviceSaleItem").json()
        assert everything["count"] == 5 and everything["hasMore"] is False
        for bad in ({"limit": "0"}, {"limit": "1001"}, {"offset": "-1"}, {"sort": "id"}):
            error(client.get(f"{REC}/serviceSaleItem", params=bad), 400, "INVALID_PARAMETER")
        currencies = client.get(f"{REC}/currency").json()
        assert [c["id"] for c in currencies["items"]] == ["1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize(("body", "path"), [
    ({"companyName": "X", "currency": USD, "fax": "123"}, "fax"),
    ({"companyName": "X", "currency": USD, "entityId": "X"}, "entityId"),
    ({"companyName": "X", "currency": USD, "id": "5"}, "id"),
    ({"companyName": 42, "currency": USD}, "companyName"),
    ({"companyName": "X", "currency": USD, "isPerson": "no"}, "isPerson"),
    ({"companyName": "X", "currency": "USD"}, "currency"),
    ({"companyName": "X", "currency": {"id": "99"}}, "currency"),
], ids=["unknown-field", "read-only", "id", "wrong-type", "bool", "ref-shape", "missing-ref"])
def test_invalid_customer_content(emu: NetSuiteEmulator, ns: httpx.Client,
                                  body: dict[str, Any], path: str) -> None:
    count = len(emu.records("customer"))
    detail = error(ns.post(f"{REC}/customer", json=body), 400, "INVALID_CONTENT")
    assert detail["o:errorPath"] == path and path in detail["detail"]
    assert len(emu.records("customer")) == count


def test_invalid_transaction_content(emu: NetSuiteEmulator, ns: httpx.Client) -> None:
    cust, product = customer(ns, "Content Co"), item(ns)
    head = f'"entity": {{"id": "{cust}"}}, "currency": {{"id": "1"}}, "dueDate": "2026-02-01"'
    cases = {
        '"tranDate": "2026-02-30"': "tranDate",
        '"tranDate": "15/01/2026"': "tranDate",
        f'"tranDate": "2026-01-15", "item": {{"items": [{{"item": {{"id": "{product}"}}, '
        '"amount": 10.125}]}': "item.items[0].amount",
        f'"tranDate": "2026-01-15", "item": {{"items": [{{"item": {{"id": "{product}"}}, '
        '"amount": "10.00"}]}': "item.items[0].amount",
        '"tranDate": "2026-01-15", "item": {"items": [{"item": {"id": "424242"}, '
        '"amount": 1}]}': "item.items[0].item",
        f'"tranDate": "2026-01-15", "item": {{"items": [{{"item": {{"id": "{product}"}}, '
        '"amount": 1, "color": "red"}]}': "item.items[0].color",
        '"tranDate": "2026-01-15", "total": 5': "total",
    }
    for fields, path in cases.items():
        response = send(ns, "POST", f"{REC}/invoice", "{" + head + ", " + fields + "}")
        assert error(response, 400, "INVALID_CONTENT")["o:errorPath"] == path, fields
    yen = send(ns, "POST", f"{REC}/invoice", json.dumps({
        "entity": {"id": cust}, "currency": JPY, "tranDate": "2026-01-15",
        "dueDate": "2026-02-01", "item": {"items": [{"item": {"id": product}, "amount": 1}]},
    }).replace('"amount": 1', '"amount": 100.5'))
    assert error(yen, 400, "INVALID_CONTENT")["o:errorPath"] == "item.items[0].amount"
    error(send(ns, "POST", f"{REC}/invoice", '{"entity": '), 400, "INVALID_CONTENT")
    missing = send(ns, "POST", f"{REC}/invoice", {"entity": {"id": cust}, "currency": USD,
                                              "tranDate": "2026-01-15", "dueDate": "2026-02-01"})
    assert error(missing, 400, "USER_ERROR")["o:errorPath"] == "item"
    assert not [i for i in emu.records("invoice") if i["entity"]["id"] == cust]


def test_currencies_are_read_only_and_methods_are_checked(ns: httpx.Client) -> None:
    error(ns.post(f"{REC}/currency", json={"symbol": "CHF", "name": "Franc"}), 405,
          "INVALID_METHOD")
    error(ns.patch(f"{REC}/currency/1", json={"name": "Dollar"}), 405, "INVALID_METHOD")
    error(ns.put(f"{REC}/customer/1", json={"companyName": "X"}), 405, "INVALID_METHOD")
    error(ns.delete(f"{REC}/customer/1"), 405, "INVALID_METHOD")
    error(ns.get(SUITEQL), 405, "INVALID_METHOD")
    assert ns.get(f"{REC}/currency/6").json()["symbol"] == "JPY"


def test_sales_order_sublist_expands_on_request(emu: NetSuiteEmulator, ns: httpx.Client) -> None:
    cust, product = customer(ns, "Order Co"), item(ns, "Seats")
    so = create(ns, "salesOrder", {
        "entity": {"id": cust}, "currency": USD, "tranDate": "2026-01-01",
        "startDate": "2026-01-01", "endDate": "2026-12-31", "otherRefNum": "PO-7",
        "item": {"items": [{"item": {"id": product}, "quantity": 3, "rate": Decimal("33.3333"),
                            "amount": Decimal("100.00"), "description": "Seats"}]}})
    plain = ns.get(f"{REC}/salesOrder/{so}").json()
    assert plain["item"] == {"links": [{"rel": "self",
                                        "href": f"{emu.url}{REC}/salesOrder/{so}/item"}]}
    assert plain["tranId"].startswith("SO") and plain["total"] == 100
    assert plain["status"] == {"id": "B", "refName": "Pending Fulfillment"}
    full = decoded(ns.get(f"{REC}/salesOrder/{so}", params={"expandSubResources": "true"}))
    sub = full["item"]
    assert (sub["count"], sub["totalResults"], sub["hasMore"], sub["offset"]) == (1, 1, False, 0)
    line = sub["items"][0]
    assert line["item"]["refName"] == "Seats" and line["rate"] == Decimal("33.3333")
    assert line["quantity"] == 3 and line["amount"] == 100
    assert decoded(ns.get(f"{REC}/salesOrder/{so}/item")) == sub
    error(ns.get(f"{REC}/salesOrder/{so}", params={"expandSubResources": "yes"}), 400,
          "INVALID_PARAMETER")


# -- transactions -----------------------------------------------------------------------------


def test_invoice_payment_credit_memo_balance_is_exact(ns: httpx.Client) -> None:
    cust, product = customer(ns, "Balance Co"), item(ns)
    inv = invoice(ns, cust, product, "1000.10", "0.20", "0")
    opened = decoded(ns.get(f"{REC}/invoice/{inv}"))
    assert opened["total"] == Decimal("1000.3") and opened["amountRemaining"] == Decimal("1000.3")
    assert opened["status"] == {"id": "A", "refName": "Open"} and opened["tranId"].startswith("INV")
    pay = create(ns, "customerPayment", {
        "customer": {"id": cust}, "currency": USD, "tranDate": "2026-01-20",
        "payment": Decimal("500.00"),
        "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": Decimal("300.10")}]}})
    payment = decoded(ns.get(f"{REC}/customerPayment/{pay}"))
    assert payment["applied"] == Decimal("300.1") and payment["unapplied"] == Decimal("199.9")
    memo = create(ns, "creditMemo", {
        "entity": {"id": cust}, "currency": USD, "tranDate": "2026-01-21",
        "item": lines(product, "0.10", "0.10", "0.10"),
        "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": Decimal("0.30")}]}})
    credit = decoded(ns.get(f"{REC}/creditMemo/{memo}"))
    assert credit["total"] == Decimal("0.3") and credit["amountRemaining"] == 0
    assert credit["status"] == {"id": "B", "refName": "Fully Applied"}
    partly = ns.get(f"{REC}/invoice/{inv}")
    assert '"amountRemaining":699.9,' in partly.text and '"amountPaid":300.1,' in partly.text
    # Raising the payment and its application settles the rest (1000.30 less the 0.30 credit).
    assert send(ns, "PATCH", f"{REC}/customerPayment/{pay}", {
        "payment": Decimal("1000.00"),
        "apply": {"items": [{"doc": {"id": inv}, "amount": Decimal("1000.00")}]},
    }).status_code == 204
    paid = decoded(ns.get(f"{REC}/invoice/{inv}"))
    assert paid["amountRemaining"] == 0 and paid["amountPaid"] == 1000
    assert paid["status"] == {"id": "B", "refName": "Paid In Full"}
    row = suiteql(ns, f"SELECT foreigntotal, foreignamountremaining, status FROM transaction "
                      f"WHERE id = {inv}").json()["items"][0]
    assert row == {"links": [], "foreigntotal": "1000.3", "foreignamountremaining": "0",
                   "status": "B"}


def test_invoice_transforms_into_a_credit_memo_applied_to_what_is_open(
        emu: NetSuiteEmulator, ns: httpx.Client) -> None:
    """Transforming Records: `POST invoice/{id}/!transform/creditMemo` copies the invoice's
    lines into a new credit memo applied to the invoice's open balance (204 + Location)."""
    cust, product = customer(ns, "Void Co"), item(ns)
    inv = invoice(ns, cust, product, "100.00", "20.00")
    create(ns, "customerPayment", {
        "customer": {"id": cust}, "currency": USD, "tranDate": "2026-01-20",
        "payment": Decimal("20.00"),
        "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": Decimal("20.00")}]}})
    done = send(ns, "POST", f"{REC}/invoice/{inv}/!transform/creditMemo",
                {"externalId": "in_1:void", "tranDate": "2026-02-01", "memo": "voided"})
    assert done.status_code == 204, done.text
    memo_id = done.headers["Location"].rsplit("/", 1)[1]
    memo = decoded(ns.get(f"{REC}/creditMemo/eid:in_1:void", params={
        "expandSubResources": "true"}))
    assert memo["id"] == memo_id and memo["entity"]["id"] == cust and memo["memo"] == "voided"
    assert [line["amount"] for line in memo["item"]["items"]] == [Decimal("100"), Decimal("20")]
    assert [(a["doc"]["id"], a["amount"]) for a in memo["apply"]["items"]] == [
        (inv, Decimal("100"))]
    assert memo["total"] == Decimal("120") and memo["unapplied"] == Decimal("20")
    assert decoded(ns.get(f"{REC}/invoice/{inv}"))["amountRemaining"] == 0
    refused = send(ns, "POST", f"{REC}/customer/{cust}/!transform/creditMemo", {})
    assert "can't transform a customer" in error(refused, 400, "USER_ERROR")["detail"]
    assert error(ns.get(f"{REC}/invoice/{inv}/!transform/creditMemo"), 405, "INVALID_METHOD")


def test_over_application_is_refused_and_changes_nothing(emu: NetSuiteEmulator,
                                                         ns: httpx.Client) -> None:
    cust, other, product = customer(ns, "Over Co"), customer(ns, "Other Co"), item(ns)
    inv = invoice(ns, cust, product, "100.00")
    pounds = invoice(ns, cust, product, "50.00", currency=GBP)
    theirs = invoice(ns, other, product, "70.00")

    def pay(amount: str, *applied: tuple[str, str]) -> httpx.Response:
        return send(ns, "POST", f"{REC}/customerPayment", {
            "customer": {"id": cust}, "currency": USD, "tranDate": "2026-01-20",
            "payment": Decimal(amount),
            "apply": {"items": [{"doc": {"id": d}, "apply": True, "amount": Decimal(a)}
                                for d, a in applied]}})

    payments = len(emu.records("customerPayment"))
    refused = {
        "apply.items[0].amount": pay("500", (inv, "100.01")),
        "apply": pay("50", (inv, "60")),
        "apply.items[0].doc": pay("500", (theirs, "10")),
        "apply.items[1].doc": pay("500", (inv, "10"), (pounds, "10")),
        "apply.items[1].doc ": pay("500", (inv, "10"), (inv, "10")),
        "payment": pay("0"),
    }
    for path, response in refused.items():
        assert error(response, 400, "USER_ERROR")["o:errorPath"] == path.strip()
    assert len(emu.records("customerPayment")) == payments
    assert ns.get(f"{REC}/invoice/{inv}").json()["amountRemaining"] == 100
    # A legitimate application, then a credit memo asking for more than is left.
    assert pay("60", (inv, "60")).status_code == 204
    memo = send(ns, "POST", f"{REC}/creditMemo", {
        "entity": {"id": cust}, "currency": USD, "tranDate": "2026-01-22",
        "item": lines(product, "50"), "apply": {"items": [{"doc": {"id": inv}, "amount": 41}]}})
    assert error(memo, 400, "USER_ERROR")["o:errorPath"] == "apply.items[0].amount"
    too_big = send(ns, "POST", f"{REC}/creditMemo", {
        "entity": {"id": cust}, "currency": USD, "tranDate": "2026-01-22",
        "item": lines(product, "30"), "apply": {"items": [{"doc": {"id": inv}, "amount": 35}]}})
    assert error(too_big, 400, "USER_ERROR")["o:errorPath"] == "apply"
    assert ns.get(f"{REC}/invoice/{inv}").json()["amountRemaining"] == 40


def test_invoice_updates_keep_the_rules(ns: httpx.Client) -> None:
    cust, product = customer(ns, "Update Co"), item(ns)
    inv = invoice(ns, cust, product, "80.00", "20.00")
    create(ns, "customerPayment", {
        "customer": {"id": cust}, "currency": USD, "tranDate": "2026-01-20", "payment": 60,
        "apply": {"items": [{"doc": {"id": inv}, "amount": 60}]}})
    shrink = send(ns, "PATCH", f"{REC}/invoice/{inv}", {"item": lines(product, "50")})
    assert error(shrink, 400, "USER_ERROR")["o:errorPath"] == "item"
    moved = ns.patch(f"{REC}/invoice/{inv}", json={"currency": GBP})
    assert error(moved, 400, "USER_ERROR")["o:errorPath"] == "currency"
    negative = send(ns, "PATCH", f"{REC}/invoice/{inv}", {"item": lines(product, "10", "-20")})
    assert error(negative, 400, "USER_ERROR")["o:errorPath"] == "item"
    assert send(ns, "PATCH", f"{REC}/invoice/{inv}",
                {"item": lines(product, "90", "-20"), "memo": "credit"}).is_success
    after = ns.get(f"{REC}/invoice/{inv}").json()
    assert after["total"] == 70 and after["amountRemaining"] == 10 and after["memo"] == "credit"


# -- SuiteQL ----------------------------------------------------------------------------------


def suiteql(ns: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return ns.post(SUITEQL, json={"q": q}, params=params, headers=TRANSIENT)


@pytest.fixture(scope="module")
def book() -> Iterator[httpx.Client]:
    """A separate account with a known set of customers for query tests."""
    with NetSuiteEmulator() as fresh, connect(fresh) as client:
        customer(client, "Acme Corp", USD, externalId="A-1", email="ap@acme.test")
        customer(client, "Beta LLC", GBP, externalId="B-2")
        customer(client, "O'Brien Ltd", EUR, externalId="C-3", email="o@brien.test")
        customer(client, "acme lowercase", USD, email="x@acme.test")
        customer(client, "Zeta_Co", JPY, externalId="Z-9")
        yield client


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["companyname"] for row in response.json()["items"]]


@pytest.mark.parametrize(("where", "expected"), [
    ("id = 3", ["O'Brien Ltd"]),
    ("id != 3", ["Acme Corp", "Beta LLC", "acme lowercase", "Zeta_Co"]),
    ("id <> 3", ["Acme Corp", "Beta LLC", "acme lowercase", "Zeta_Co"]),
    ("id < 3", ["Acme Corp", "Beta LLC"]),
    ("id <= 3", ["Acme Corp", "Beta LLC", "O'Brien Ltd"]),
    ("id > 3", ["acme lowercase", "Zeta_Co"]),
    ("id >= 3", ["O'Brien Ltd", "acme lowercase", "Zeta_Co"]),
    ("id = '2'", ["Beta LLC"]),
    ("companyname = 'Acme Corp'", ["Acme Corp"]),
    ("companyname > 'B'", ["Beta LLC", "O'Brien Ltd", "acme lowercase", "Zeta_Co"]),
    ("currency = 1 AND email IS NOT NULL", ["Acme Corp", "acme lowercase"]),
    ("currency = 2 OR currency = 6", ["Beta LLC", "Zeta_Co"]),
    ("currency = 1 OR currency = 2 AND id > 2", ["Acme Corp", "acme lowercase"]),
    ("(currency = 1 OR currency = 2) AND id > 2", ["acme lowercase"]),
    ("NOT currency = 1", ["Beta LLC", "O'Brien Ltd", "Zeta_Co"]),
    ("NOT (currency = 1 OR email IS NULL)", ["O'Brien Ltd"]),
    ("currency IN (2, 4)", ["Beta LLC", "O'Brien Ltd"]),
    ("externalid NOT IN ('A-1', 'B-2')", ["O'Brien Ltd", "Zeta_Co"]),
    ("companyname LIKE 'Acme%'", ["Acme Corp"]),
    ("companyname LIKE '%e%'", ["Acme Corp", "Beta LLC", "O'Brien Ltd", "acme lowercase",
                                "Zeta_Co"]),
    ("companyname LIKE '_eta%'", ["Beta LLC", "Zeta_Co"]),
    ("companyname NOT LIKE '%a%'", ["Acme Corp", "O'Brien Ltd"]),
    ("email IS NULL", ["Beta LLC", "Zeta_Co"]),
    ("externalid IS NULL", ["acme lowercase"]),
    ("companyname = 'O''Brien Ltd'", ["O'Brien Ltd"]),
    ("companyname = 'x'' OR ''1''=''1'", []),
    ("companyname = '''; DROP TABLE customer; --'", []),
    ("email != 'nobody@test'", ["Acme Corp", "O'Brien Ltd", "acme lowercase"]),
])
def test_suiteql_where(book: httpx.Client, where: str, expected: list[str]) -> None:
    assert names(suiteql(book, f"SELECT id, companyname FROM customer WHERE {where}")) == expected


def test_suiteql_values_order_and_case(book: httpx.Client) -> None:
    rows = suiteql(book, "select * from CUSTOMER where ID in (1, 2) Order By id DESC").json()
    assert rows["items"] == [
        {"links": [], "id": "2", "entityid": "Beta LLC", "companyname": "Beta LLC",
         "externalid": "B-2", "currency": "2"},
        {"links": [], "id": "1", "entityid": "Acme Corp", "companyname": "Acme Corp",
         "externalid": "A-1", "email": "ap@acme.test", "currency": "1"},
    ]
    by_email = names(suiteql(book, "SELECT companyname FROM customer ORDER BY email DESC, id"))
    assert by_email == ["Beta LLC", "Zeta_Co", "acme lowercase", "O'Brien Ltd", "Acme Corp"]
    by_currency = names(suiteql(
        book, "SELECT companyname FROM customer ORDER BY currency ASC, companyname DESC"))
    assert by_currency == ["acme lowercase", "Acme Corp", "Beta LLC", "O'Brien Ltd", "Zeta_Co"]
    yen = suiteql(book, "SELECT symbol, name FROM currency WHERE symbol = 'JPY'").json()
    assert yen["items"] == [{"links": [], "symbol": "JPY", "name": "Yen"}]


def test_suiteql_paging(book: httpx.Client) -> None:
    first = suiteql(book, "SELECT id FROM customer", limit=2).json()
    assert [r["id"] for r in first["items"]] == ["1", "2"]
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (
        2, True, 0, 5)
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert nxt.endswith(f"{SUITEQL}?limit=2&offset=2")
    last = suiteql(book, "SELECT id FROM customer", limit=2, offset=4).json()
    assert [r["id"] for r in last["items"]] == ["5"] and last["hasMore"] is False
    error(suiteql(book, "SELECT id FROM customer", limit=2, offset=3), 400, "INVALID_PARAMETER")
    error(suiteql(book, "SELECT id FROM customer", limit=1001), 400, "INVALID_PARAMETER")
    no_prefer = book.post(SUITEQL, json={"q": "SELECT id FROM customer"})
    assert "Prefer" in error(no_prefer, 400, "INVALID_PARAMETER")["detail"]


@pytest.mark.parametrize(("query", "hint"), [
    ("SELECT id FROM customer c JOIN transaction t ON t.entity = c.id", "aliases"),
    ("SELECT id FROM customer JOIN transaction ON entity = id", "joins"),
    ("SELECT id FROM customer, transaction", "joins"),
    ("SELECT customer.id FROM customer", "qualified"),
    ("SELECT COUNT(*) FROM customer", "functions"),
    ("SELECT id FROM customer GROUP BY id", "GROUP BY"),
    ("SELECT id AS x FROM customer", "aliases"),
    ("SELECT id FROM vendor", "unknown table"),
    ("SELECT fax FROM customer", "unknown column"),
    ("SELECT id FROM customer WHERE fax = 1", "unknown column"),
    ("SELECT id FROM customer; DELETE FROM customer", "one statement"),
    ("SELECT id FROM customer WHERE email = NULL", "IS NULL"),
    ("SELECT id FROM customer WHERE companyname = 5", "text column"),
    ("SELECT id FROM customer WHERE id = 'abc'", "not a valid number"),
    ("SELECT id FROM customer WHERE companyname = 'open", "unterminated"),
    ("SELECT id FROM customer WHERE id BETWEEN 1 AND 2", "BETWEEN"),
    ("SELECT id FROM customer -- comment", "comments"),
    ("SELECT id FROM customer ORDER BY id NULLS FIRST", "NULLS"),
    ("SELECT id FROM customer WHERE", "end of query"),
    ("SELECT DISTINCT id FROM customer", "DISTINCT"),
    ("", "empty"),
])
def test_suiteql_outside_the_subset_is_refused(book: httpx.Client, query: str, hint: str) -> None:
    detail = error(suiteql(book, query), 400, "INVALID_PARAMETER")["detail"]
    assert detail.startswith("Invalid search query") and hint in detail, detail


def test_suiteql_transactions_and_dates(ns: httpx.Client) -> None:
    cust, product = customer(ns, "Query Co", externalId="QRY"), item(ns)
    inv = invoice(ns, cust, product, "12.50")
    rows = suiteql(ns, f"SELECT id, tranid, type, entity, trandate, duedate, foreigntotal, memo "
                       f"FROM transaction WHERE entity = {cust} AND trandate >= '2026-01-15' "
                       f"AND type = 'CustInvc'").json()["items"]
    assert [r["id"] for r in rows] == [inv]
    assert rows[0]["trandate"] == "2026-01-15" and rows[0]["duedate"] == "2026-02-14"
    assert rows[0]["foreigntotal"] == "12.5" and "memo" not in rows[0]
    error(suiteql(ns, "SELECT id FROM transaction WHERE trandate > '15/01/2026'"), 400,
          "INVALID_PARAMETER")


# -- concurrency ------------------------------------------------------------------------------


def test_requests_beyond_the_concurrency_limit_get_429() -> None:
    with NetSuiteEmulator(concurrency_limit=1) as limited, connect(limited) as client:
        release = threading.Event()
        body = json.dumps({"companyName": "Slow Co", "currency": USD}).encode()

        def slow_body() -> Iterator[bytes]:
            yield body[:5]
            release.wait(5)
            yield body[5:]

        def held() -> httpx.Response:
            return client.post(f"{REC}/customer", content=slow_body(), headers={
                "Content-Type": "application/json", "Content-Length": str(len(body))})

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(held)
            deadline = time.monotonic() + 5
            while limited.gate.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            with connect(limited) as second:
                refused = second.get(f"{REC}/currency/1")
            release.set()
            assert pending.result().status_code == 204
        detail = error(refused, 429, "CONCURRENCY_LIMIT_EXCEEDED")
        assert detail["detail"] == "Concurrent request limit exceeded. Request blocked."
        assert limited.calls["throttled"] == 1 and "GET currency" not in limited.calls
        assert [c["companyName"] for c in limited.records("customer")] == ["Slow Co"]
        assert client.get(f"{REC}/currency/1").status_code == 200


def test_concurrent_upserts_of_one_external_id_make_one_record() -> None:
    racers = 12
    with NetSuiteEmulator(concurrency_limit=0) as unlimited, ExitStack() as stack:
        # Connections open one by one (the listener's accept backlog is small); then every
        # thread sends its upsert at the same instant.
        clients = [stack.enter_context(connect(unlimited)) for _ in range(racers)]
        for client in clients:
            assert client.get(f"{REC}/currency/1").status_code == 200
        start = threading.Barrier(racers)

        def upsert(n: int) -> tuple[int, str]:
            start.wait()
            response = clients[n].put(f"{REC}/customer/eid:race", json={
                "companyName": f"Racer {n}", "currency": USD})
            return response.status_code, response.headers.get("Location", "")

        with ThreadPoolExecutor(racers) as pool:
            results = list(pool.map(upsert, range(racers)))
        assert {status for status, _ in results} == {204}
        assert len({location for _, location in results}) == 1
        assert len(unlimited.records("customer")) == 1
        assert unlimited.calls["PUT customer"] == racers


def test_env_names_everything_a_client_needs(emu: NetSuiteEmulator) -> None:
    env = emu.env()
    assert env == {
        "NETSUITE_ACCOUNT_ID": "1234567_SB1", "NETSUITE_BASE_URL": emu.url,
        "NETSUITE_CONSUMER_KEY": emu.consumer_key,
        "NETSUITE_CONSUMER_SECRET": emu.consumer_secret, "NETSUITE_TOKEN_ID": emu.token_id,
        "NETSUITE_TOKEN_SECRET": emu.token_secret, "NETSUITE_CA_BUNDLE": str(emu.ca_bundle),
    }


def test_a_body_cut_short_is_refused_and_makes_nothing(emu: NetSuiteEmulator) -> None:
    # A client killed while sending: the headers promise 200 bytes, 2 arrive, then the
    # connection is gone. NetSuite acts on whole requests only.
    host, port = emu.url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(emu.ca_bundle))
    invoices, incomplete = len(emu.records("invoice")), emu.calls.get("incomplete", 0)
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=host) as conn:
        conn.sendall(b"POST /services/rest/record/v1/salesOrder/1/!transform/invoice HTTP/1.1\r\n"
                     b"Host: " + host.encode() + b"\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200\r\n\r\n{}")
    deadline = time.monotonic() + 5
    while emu.calls.get("incomplete") != incomplete + 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emu.calls.get("incomplete") == incomplete + 1
    assert len(emu.records("invoice")) == invoices
