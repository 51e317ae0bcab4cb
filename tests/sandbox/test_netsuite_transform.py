"""The emulator bills a sales order as NetSuite does: `!transform/invoice` copies what is still
unbilled, links the invoice to the order and its lines to the order's lines, and the order
shows its billed quantities and status; a OneWorld account checks subsidiaries."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from sandbox.netsuite import NetSuiteEmulator
from tests.sandbox.test_netsuite_emulator import (
    EUR,
    REC,
    USD,
    connect,
    create,
    customer,
    decoded,
    error,
    item,
    send,
)


@pytest.fixture
def ns() -> Iterator[httpx.Client]:
    with NetSuiteEmulator() as emu, connect(emu) as client:
        yield client


def _order(ns: httpx.Client) -> str:
    cust, seats = customer(ns, "Order Co"), item(ns, "Seats")
    return create(ns, "salesOrder", {
        "entity": {"id": cust}, "currency": USD, "tranDate": "2026-01-01",
        "item": {"items": [
            {"item": {"id": seats}, "quantity": 10, "amount": Decimal("1200"),
             "revRecStartDate": "2026-01-01", "revRecEndDate": "2026-12-31"},
            {"item": {"id": seats}, "quantity": 1, "amount": Decimal("300")}]}})


def _transform(ns: httpx.Client, order: str, body: object = "") -> httpx.Response:
    return send(ns, "POST", f"{REC}/salesOrder/{order}/!transform/invoice", body)


def _get(ns: httpx.Client, kind: str, record_id: str) -> dict:
    return decoded(ns.get(f"{REC}/{kind}/{record_id}", params={"expandSubResources": "true"}))


def test_billing_an_order_in_two_invoices(ns: httpx.Client) -> None:
    # By hand: the order is $1,500 ($1,200 for 10 seats over 2026, $300 for 1). The first
    # invoice bills $300 of line 1 (2.5 seats); the second, with no lines given, bills what is
    # left: $900 of line 1 and $300 of line 2, and the order is Billed.
    order = _order(ns)
    seats = _get(ns, "salesOrder", order)["item"]["items"][0]["item"]["id"]
    first = _transform(ns, order, {"tranDate": "2026-01-31", "externalId": "in_1", "item": {
        "items": [{"item": {"id": seats}, "amount": Decimal("300"), "orderLine": 1}]}})
    assert first.status_code == 204, first.text
    invoice = _get(ns, "invoice", first.headers["Location"].rsplit("/", 1)[1])
    assert invoice["createdFrom"]["id"] == order and invoice["total"] == Decimal("300")
    (line,) = invoice["item"]["items"]
    assert (line["revRecStartDate"], line["revRecEndDate"]) == ("2026-01-01", "2026-12-31")
    placed = _get(ns, "salesOrder", order)
    assert [x["quantityBilled"] for x in placed["item"]["items"]] == [Decimal("2.5"), 0]
    assert placed["status"]["refName"] == "Pending Billing/Partially Fulfilled"
    # The same external ID again: a duplicate, refused, nothing billed twice.
    error(_transform(ns, order, {"externalId": "in_1"}), 400, "DUP_RCRD")
    rest = _transform(ns, order, {"tranDate": "2026-02-28"})
    assert rest.status_code == 204, rest.text
    rest_invoice = _get(ns, "invoice", rest.headers["Location"].rsplit("/", 1)[1])
    assert [(x["orderLine"], x["amount"]) for x in rest_invoice["item"]["items"]] == [
        (1, Decimal("900")), (2, Decimal("300"))]
    billed = _get(ns, "salesOrder", order)
    assert [x["quantityBilled"] for x in billed["item"]["items"]] == [10, 1]
    assert billed["status"] == {"id": "G", "refName": "Billed"}
    detail = error(_transform(ns, order), 400, "USER_ERROR")
    assert "already billed in full" in detail["detail"]
    detail = error(_transform(ns, order, {"item": {"items": [
        {"item": {"id": seats}, "amount": 1, "orderLine": 3}]}}), 400, "USER_ERROR")
    assert detail["o:errorPath"] == "item.items[0].orderLine"


def test_a_one_world_account_checks_subsidiaries() -> None:
    with NetSuiteEmulator(one_world=True) as emu, connect(emu) as ns:
        detail = error(send(ns, "POST", f"{REC}/customer",
                            {"companyName": "No Sub", "currency": USD}), 400, "USER_ERROR")
        assert detail == {"detail": "Please enter value(s) for: Primary Subsidiary",
                          "o:errorPath": "subsidiary", "o:errorCode": "USER_ERROR"}
        detail = error(send(ns, "POST", f"{REC}/customer", {
            "companyName": "Euro Co", "currency": EUR, "subsidiary": {"id": "2"}}),
            400, "USER_ERROR")
        assert detail["detail"] == "The currency EUR is not available for the subsidiary UK Ltd."
        assert customer(ns, "UK Co", USD, subsidiary={"id": "2"})
        assert [c["subsidiary"]["refName"] for c in emu.records("customer")] == ["UK Ltd"]
