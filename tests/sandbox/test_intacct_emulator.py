"""The Sage Intacct emulator through httpx: OAuth 2.0, objects with computed balances, the query
service, Sage's error shapes and its concurrency limit."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.intacct import IntacctEmulator

AR = "/objects/accounts-receivable"


@pytest.fixture(scope="module")
def emu() -> Iterator[IntacctEmulator]:
    with IntacctEmulator() as emulator:
        yield emulator


@pytest.fixture
def http(emu: IntacctEmulator) -> httpx.Client:
    trust = ssl.create_default_context(cafile=str(emu.ca_bundle))
    return httpx.Client(base_url=emu.url + "/ia/api/v1", verify=trust)


def token(emu: IntacctEmulator, http: httpx.Client, **override: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": emu.client.client_id,
            "client_secret": emu.client.client_secret, "username": emu.client.username,
            **override}
    return http.post("/oauth2/token", data=form)


@pytest.fixture
def api(emu: IntacctEmulator, http: httpx.Client) -> httpx.Client:
    http.headers["Authorization"] = "Bearer " + token(emu, http).json()["access_token"]
    return http


def created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["ia::result"]["key"])


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["ia::meta"] == {"totalCount": 1, "totalSuccess": 0, "totalError": 1}
    return body["ia::result"]["ia::error"]  # type: ignore[no-any-return]


def customer(api: httpx.Client, cid: str, currency: str = "USD") -> None:
    created(api.post(f"{AR}/customer", json={"id": cid, "name": f"Customer {cid}",
                                              "currency": currency}))


def invoice(api: httpx.Client, cid: str, *amounts: str, ref: str | None = None,
            currency: str = "USD") -> str:
    return created(api.post(f"{AR}/invoice", json={
        "customer": {"id": cid}, "referenceNumber": ref, "currency": {"txnCurrency": currency},
        "lines": [{"glAccount": {"id": "2100"}, "txnAmount": a} for a in amounts]}))


def test_client_credentials_and_refresh(emu: IntacctEmulator, http: httpx.Client) -> None:
    granted = token(emu, http).json()
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 3600
    refreshed = http.post("/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": granted["refresh_token"],
        "client_id": emu.client.client_id, "client_secret": emu.client.client_secret})
    assert refreshed.status_code == 200
    again = http.post("/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": granted["refresh_token"],
        "client_id": emu.client.client_id, "client_secret": emu.client.client_secret})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_client_or_user_is_refused(emu: IntacctEmulator, http: httpx.Client) -> None:
    wrong = token(emu, http, client_secret="nope")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert token(emu, http, username="someone@ELSEWHERE").json()["error"] == "invalid_grant"


def test_a_bad_or_expired_token_is_refused_in_sages_shape(
    emu: IntacctEmulator, http: httpx.Client, api: httpx.Client
) -> None:
    bad = http.get(f"{AR}/customer", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401
    assert (error(bad)["code"], error(bad)["errorId"]) == ("tokenInvalid", "REST-2102")
    assert api.get(f"{AR}/customer").status_code == 200
    emu.tokens.expire_all()
    assert api.get(f"{AR}/customer").status_code == 401


def test_a_customer_id_is_unique(api: httpx.Client) -> None:
    customer(api, "C-UNIQUE")
    again = api.post(f"{AR}/customer", json={"id": "C-UNIQUE", "name": "Again"})
    assert again.status_code == 400
    assert "already exists" in error(again)["message"]


def test_payments_and_credits_compute_the_balance(api: httpx.Client) -> None:
    # Invoice $1,000.00 + $200.50 = $1,200.50; paid $700.25; credited $500.25 → owes $0.00.
    customer(api, "C-BAL")
    key = invoice(api, "C-BAL", "1000.00", "200.50")
    paid = created(api.post(f"{AR}/payment", json={
        "customer": {"id": "C-BAL"}, "undepositedFundsGLAccount": {"id": "1010"},
        "details": [{"arInvoice": {"key": key}, "txnAmount": "700.25"}]}))
    shown = api.get(f"{AR}/invoice/{key}").json()["ia::result"]
    assert (shown["totalTxnAmount"], shown["totalTxnAmountPaid"], shown["totalTxnAmountDue"],
            shown["state"]) == ("1200.50", "700.25", "500.25", "partiallyPaid")
    over = api.post(f"{AR}/payment", json={
        "customer": {"id": "C-BAL"}, "undepositedFundsGLAccount": {"id": "1010"},
        "details": [{"arInvoice": {"key": key}, "txnAmount": "500.26"}]})
    assert over.status_code == 400 and "exceeds what it owes" in error(over)["message"]
    credit = created(api.post(f"{AR}/adjustment", json={
        "customer": {"id": "C-BAL"}, "lines": [{"glAccount": {"id": "2100"},
                                                "txnAmount": "-500.25"}]}))
    created(api.post(f"{AR}/payment", json={
        "customer": {"id": "C-BAL"}, "details": [{"arInvoice": {"key": key},
                                                   "inlineTxn": {"key": credit},
                                                   "txnAmount": "500.25"}]}))
    shown = api.get(f"{AR}/invoice/{key}").json()["ia::result"]
    assert (shown["totalTxnAmountDue"], shown["state"]) == ("0.00", "paid")
    memo = api.get(f"{AR}/adjustment/{credit}").json()["ia::result"]
    assert (memo["totalTxnAmount"], memo["totalTxnAmountDue"]) == ("-500.25", "0.00")
    assert api.get(f"{AR}/payment/{paid}").json()["ia::result"]["totalTxnAmount"] == "700.25"


def test_missing_references_are_refused_and_nothing_is_created(
    emu: IntacctEmulator, api: httpx.Client
) -> None:
    before = len(emu.records("accounts-receivable/invoice"))
    customer(api, "C-REFS")
    no_gl = api.post(f"{AR}/invoice", json={"customer": {"id": "C-REFS"}, "lines": [
        {"glAccount": {"id": "2999"}, "txnAmount": "1.00"}]})
    assert "GL account 2999" in error(no_gl)["message"]
    no_customer = api.post(f"{AR}/invoice", json={"customer": {"id": "C-NONE"}, "lines": [
        {"glAccount": {"id": "2100"}, "txnAmount": "1.00"}]})
    assert "customer C-NONE" in error(no_customer)["message"]
    no_currency = api.post(f"{AR}/invoice", json={
        "customer": {"id": "C-REFS"}, "currency": {"txnCurrency": "XYZ"},
        "lines": [{"glAccount": {"id": "2100"}, "txnAmount": "1.00"}]})
    assert "Currency XYZ" in error(no_currency)["message"]
    no_item = api.post("/objects/order-entry/document::Sales Order", json={
        "customer": {"id": "C-REFS"}, "lines": [{"item": {"id": "Nothing"}, "txnAmount": "1"}]})
    assert "item Nothing" in error(no_item)["message"]
    assert len(emu.records("accounts-receivable/invoice")) == before
    assert api.get(f"{AR}/invoice/999999").status_code == 404


def test_a_journal_entry_must_balance(api: httpx.Client) -> None:
    def entry(debit: str, credit: str) -> httpx.Response:
        return api.post("/objects/general-ledger/journal-entry", json={
            "glJournal": {"id": "GJ"}, "postingDate": "2026-01-31", "lines": [
                {"glAccount": {"id": "2100"}, "txnAmount": debit, "txnType": "debit"},
                {"glAccount": {"id": "4000"}, "txnAmount": credit, "txnType": "credit"}]})
    assert "differ by 0.01" in error(entry("100.00", "99.99"))["message"]
    created(entry("100.00", "100.00"))


def test_the_query_service_filters_and_pages(api: httpx.Client) -> None:
    customer(api, "C-Q1")
    customer(api, "C-Q2", "EUR")
    for n in range(5):
        invoice(api, "C-Q1", f"{n + 1}0.00", ref=f"q-{n}")
    invoice(api, "C-Q2", "99.00", ref="q-eur", currency="EUR")

    def query(**body: Any) -> dict[str, Any]:
        answer = api.post("/services/core/query", json={
            "object": "accounts-receivable/invoice",
            "fields": ["referenceNumber", "totalTxnAmountDue", "customer.id"], **body})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    page = query(filters=[{"$startsWith": {"referenceNumber": "q-"}},
                          {"$gt": {"totalTxnAmountDue": "20"}}], size=2)
    assert [r["referenceNumber"] for r in page["ia::result"]] == ["q-2", "q-3"]
    assert page["ia::meta"] == {"totalCount": 4, "start": 1, "pageSize": 2, "next": 3,
                                "previous": None}
    last = query(filters=[{"$startsWith": {"referenceNumber": "q-"}},
                          {"$gt": {"totalTxnAmountDue": "20"}}], size=2, start=3)
    assert [r["referenceNumber"] for r in last["ia::result"]] == ["q-4", "q-eur"]
    assert (last["ia::meta"]["next"], last["ia::meta"]["previous"]) == (None, 1)
    either = query(filters=[{"$eq": {"referenceNumber": "q-0"}},
                            {"$eq": {"customer.id": "C-Q2"}}], filterExpression="1 or 2",
                   orderBy=[{"totalTxnAmountDue": "desc"}])
    assert [(r["referenceNumber"], r["totalTxnAmountDue"]) for r in either["ia::result"]] == [
        ("q-eur", "99.00"), ("q-0", "10.00")]
    everyone = api.post("/services/core/query", json={"object": "accounts-receivable/customer"})
    assert everyone.json()["ia::meta"]["totalCount"] >= 2
    bad = api.post("/services/core/query", json={"object": "accounts-receivable/invoice",
                                                  "filterExpression": "1 and import"})
    assert bad.status_code == 400


def test_requests_beyond_the_concurrency_limit_get_429(
    emu: IntacctEmulator, api: httpx.Client
) -> None:
    for _ in range(emu.gate.limit):
        assert emu.gate.enter()  # hold every slot, as slow requests in flight would
    try:
        refused = api.get(f"{AR}/customer")
    finally:
        for _ in range(emu.gate.limit):
            emu.gate.leave()
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert error(refused)["code"] == "tooManyRequests"
    assert api.get(f"{AR}/customer").status_code == 200


def test_a_sales_order_is_lowered_by_lines_added_to_it_never_below_zero(
        api: httpx.Client) -> None:
    # $1,200.00 ordered; a PATCH adds a -$360.00 line (total $840.00); another -$900.00 would
    # take it below zero and is refused; an order without lines, or a negative one, is too.
    customer(api, "C-SO")
    created(api.post("/objects/inventory-control/item", json={"id": "Seats"}))
    orders = "/objects/order-entry/document::Sales Order"
    line = {"item": {"id": "Seats"}, "txnAmount": "1200.00"}
    key = created(api.post(orders, json={"customer": {"id": "C-SO"}, "lines": [line]}))
    changed = api.patch(f"{orders}/{key}", json={"lines": [{**line, "txnAmount": "-360.00"}]})
    assert changed.status_code == 200, changed.text
    shown = api.get(f"{orders}/{key}").json()["ia::result"]
    assert (shown["totalTxnAmount"], len(shown["lines"])) == ("840.00", 2)
    below = api.patch(f"{orders}/{key}", json={"lines": [{**line, "txnAmount": "-900.00"}]})
    assert below.status_code == 400 and "can't be negative" in error(below)["message"]
    for lines in ([], [{**line, "txnAmount": "-1.00"}]):
        refused = api.post(orders, json={"customer": {"id": "C-SO"}, "lines": lines})
        assert refused.status_code == 400
    assert api.get(f"{orders}/{key}").json()["ia::result"]["totalTxnAmount"] == "840.00"
    posted = invoice(api, "C-SO", "10.00")
    assert api.patch(f"{AR}/invoice/{posted}", json={"lines": [line]}).status_code == 400


def test_adjustment_lines_are_queried_by_account_and_name_their_adjustment(
        api: httpx.Client) -> None:
    customer(api, "C-ADJ")
    credit = created(api.post(f"{AR}/adjustment", json={"customer": {"id": "C-ADJ"}, "lines": [
        {"glAccount": {"id": "2100"}, "txnAmount": "-700.00"},
        {"glAccount": {"id": "4900"}, "txnAmount": "-50.00"}]}))
    rows = api.post("/services/core/query", json={
        "object": "accounts-receivable/adjustment-line",
        "fields": ["arAdjustment.key", "glAccount.id", "txnAmount"],
        "filters": [{"$eq": {"arAdjustment.key": credit}}, {"$eq": {"glAccount.id": "4900"}}],
    }).json()["ia::result"]
    assert rows == [{"arAdjustment.key": credit, "glAccount.id": "4900", "txnAmount": "-50.00"}]


def test_the_general_ledger_is_computed_from_the_records() -> None:
    """A 1,000.00 invoice paid by card into Undeposited Funds (1010), the 29.30 card fee and the
    970.70 payout booked by journal entries (hand-computed, debit positive):
        1100 AR            +1,000.00 - 1,000.00                  =      0.00
        2100 Deferred      -1,000.00                             = -1,000.00
        1010 Undeposited   +1,000.00 - 29.30 - 970.70            =      0.00
        6100 Fees          +29.30;  1000 Bank +970.70
    A journal entry's lines share one currency; its lines are read through the query service."""
    with IntacctEmulator() as emu:
        trust = ssl.create_default_context(cafile=str(emu.ca_bundle))
        api = httpx.Client(base_url=emu.url + "/ia/api/v1", verify=trust)
        api.headers["Authorization"] = "Bearer " + token(emu, api).json()["access_token"]
        customer(api, "C-GL")
        key = invoice(api, "C-GL", "1000.00")
        created(api.post(f"{AR}/payment", json={
            "customer": {"id": "C-GL"}, "undepositedFundsGLAccount": {"id": "1010"},
            "details": [{"arInvoice": {"key": key}, "txnAmount": "1000.00"}]}))

        def entry(ref: str, debit: str, amount: str, currency: str = "USD") -> httpx.Response:
            return api.post("/objects/general-ledger/journal-entry", json={
                "glJournal": {"id": "GJ"}, "postingDate": "2026-01-31", "referenceNumber": ref,
                "lines": [{"glAccount": {"id": debit}, "txnAmount": amount, "txnType": "debit",
                           "currency": {"txnCurrency": "USD"}},
                          {"glAccount": {"id": "1010"}, "txnAmount": amount,
                           "txnType": "credit", "currency": {"txnCurrency": currency}}]})
        created(entry("stripe:fee", "6100", "29.30"))
        created(entry("stripe:po", "1000", "970.70"))
        assert "one currency" in error(entry("stripe:mixed", "6100", "1.00", "EUR"))["message"]
        lines = api.post("/services/core/query", json={
            "object": "general-ledger/journal-entry-line",
            "fields": ["journalEntry.key", "txnType", "txnAmount", "currency.txnCurrency"],
            "filters": [{"$eq": {"glAccount.id": "1010"}}]}).json()["ia::result"]
        assert [(ln["txnType"], ln["txnAmount"], ln["currency.txnCurrency"]) for ln in lines] == [
            ("credit", "29.30", "USD"), ("credit", "970.70", "USD")]
        assert {k: str(v) for k, v in emu.gl_balances("USD").items() if v} == {
            "2100": "-1000.00", "6100": "29.30", "1000": "970.70"}


def test_an_exchange_rate_is_kept_as_written_and_a_bad_one_refused(api: httpx.Client) -> None:
    customer(api, "C-EUR", "EUR")
    block = {"txnCurrency": "EUR", "baseCurrency": "USD",
             "exchangeRate": {"date": "2026-01-02", "rate": "1.085"}}
    key = created(api.post(f"{AR}/invoice", json={
        "customer": {"id": "C-EUR"}, "currency": block,
        "lines": [{"glAccount": {"id": "2100"}, "txnAmount": "100.00"}]}))
    shown = api.get(f"{AR}/invoice/{key}").json()["ia::result"]
    assert shown["currency"] == {**block, "exchangeRate": {**block["exchangeRate"],
                                                            "typeId": None}}
    before = len(api.get(f"{AR}/invoice").json()["ia::result"])
    for wrong, field in (({**block, "exchangeRate": {"date": "2026-01-02", "rate": "0"}},
                          "currency.exchangeRate.rate"),
                         ({**block, "exchangeRate": {"date": "2026-01-02", "rate": "abc"}},
                          "currency.exchangeRate.rate"),
                         ({"txnCurrency": "EUR", "exchangeRate": block["exchangeRate"]},
                          "currency.exchangeRate")):
        refused = api.post(f"{AR}/invoice", json={
            "customer": {"id": "C-EUR"}, "currency": wrong,
            "lines": [{"glAccount": {"id": "2100"}, "txnAmount": "100.00"}]})
        assert refused.status_code == 400, refused.text
        assert error(refused)["additionalInfo"]["propertySet"] == {"field": field}
    assert len(api.get(f"{AR}/invoice").json()["ia::result"]) == before


def test_an_advance_is_the_customers_credit_until_a_payment_applies_it() -> None:
    """An advance of 200.00 (an overpayment) into Undeposited Funds, 150.00 of it applied to a
    150.00 invoice by a payment moving no cash (hand-computed, debit positive):
        1010 Undeposited   +200.00                      = +200.00
        2200 Advances      -200.00 + 150.00             =  -50.00  (the credit left)
        1100 AR            +150.00 - 150.00             =    0.00
        2100 Deferred      -150.00
    and two invoices left open (another customer's 10.00, a second 80.00): AR +90.00, deferred
    -240.00 in all. Applying more than is left, another customer's advance or an unknown
    payment method is refused."""
    with IntacctEmulator() as emu:
        trust = ssl.create_default_context(cafile=str(emu.ca_bundle))
        api = httpx.Client(base_url=emu.url + "/ia/api/v1", verify=trust)
        api.headers["Authorization"] = "Bearer " + token(emu, api).json()["access_token"]
        customer(api, "C-ADV")
        customer(api, "C-OTHER")
        body = {"customer": {"id": "C-ADV"}, "paymentMethod": "eft",
                "paymentDate": "2026-01-05", "referenceNumber": "in_1:overpaid",
                "undepositedFundsGLAccount": {"id": "1010"},
                "lines": [{"glAccount": {"id": "2200"}, "txnAmount": "200.00"}]}
        bad = api.post(f"{AR}/advance", json={**body, "paymentMethod": "barter"})
        assert "paymentMethod" in error(bad)["message"]
        advance = created(api.post(f"{AR}/advance", json=body))
        key = invoice(api, "C-ADV", "150.00")
        other = invoice(api, "C-OTHER", "10.00")

        def apply(invoice_key: str, customer_id: str, amount: str) -> httpx.Response:
            return api.post(f"{AR}/payment", json={
                "customer": {"id": customer_id}, "details": [{
                    "arInvoice": {"key": invoice_key}, "postedAdvance": {"key": advance},
                    "txnAmount": amount}]})
        assert "another customer" in error(apply(other, "C-OTHER", "10.00"))["message"]
        created(apply(key, "C-ADV", "150.00"))
        shown = api.get(f"{AR}/advance/{advance}").json()["ia::result"]
        assert (shown["totalTxnAmount"], shown["totalTxnAmountApplied"],
                shown["totalTxnAmountDue"]) == ("200.00", "150.00", "50.00")
        second = invoice(api, "C-ADV", "80.00")
        assert "only 50.00 left" in error(apply(second, "C-ADV", "80.00"))["message"]
        assert api.get(f"{AR}/invoice/{key}").json()["ia::result"]["state"] == "paid"
        assert {k: str(v) for k, v in emu.gl_balances("USD").items() if v} == {
            "1010": "200.00", "2200": "-50.00", "2100": "-240.00", "1100": "90.00"}
