"""Stripe reads that change nothing: one subscription, and every customer, subscription and open
invoice page by page (`starting_after` cursors, 100 a page, newest first as Stripe lists them).

The dry run reads a subscription to know when an amendment would take effect, and the bill step
one already linked (found by the go-live import, or made by an attempt that lost its lease); the
go-live import lists what already exists so it can be linked instead of created again. Invoice
lines name their products (each product read once per client), which the post step matches to
the contract's lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sync.connectors.stripe_objects import day, to_invoice
from sync.connectors.stripe_transport import StripeTransport
from sync.errors import PermanentError
from sync.model import Invoice
from sync.ports import BillingCustomer, BillingResult, BillingSubscription

PAGE = 100


class StripeReads(StripeTransport):
    """The reads `StripeBilling` builds on; `_call` is the one choke point for every request."""

    def subscription(self, subscription_id: str) -> BillingResult:
        sub = self._call("subscriptions.retrieve", "get", f"/v1/subscriptions/{subscription_id}",
                         {"expand": ["latest_invoice"]})
        latest = sub.get("latest_invoice")
        # Its lines name their products, as every invoice read does: the post step matches each
        # line to the obligation selling that product.
        invoices = [to_invoice(latest, self._product_name)] if isinstance(latest, dict) else []
        ends = [item.get("current_period_end") for item in sub["items"]["data"]]
        return BillingResult(subscription_id=str(sub["id"]), invoices=invoices,
                             effective_on=day(min((e for e in ends if e), default=None)))

    def customers(self) -> Iterator[list[BillingCustomer]]:
        for page in self._pages("customers.list", "/v1/customers", {}):
            yield [BillingCustomer(id=str(c["id"]), name=c.get("name"), email=c.get("email"),
                                   metadata=dict(c.get("metadata") or {})) for c in page]

    def subscriptions(self) -> Iterator[list[BillingSubscription]]:
        for page in self._pages("subscriptions.list", "/v1/subscriptions", {}):
            yield [_subscription(s) for s in page]

    def open_invoices(self) -> Iterator[list[Invoice]]:
        for page in self._pages("invoices.list", "/v1/invoices", {"status": "open"}):
            yield [to_invoice(i, self._product_name) for i in page]

    def _product_name(self, product_id: str) -> str | None:
        """Products closebot made are named after the CRM product; others are read once."""
        if product_id not in self._products:
            try:
                found = self._call("products.retrieve", "get", f"/v1/products/{product_id}", {})
            except PermanentError:
                return None  # deleted since: the line then matches no obligation
            self._products[product_id] = str(found.get("name") or "")
        return self._products[product_id] or None

    def _pages(self, kind: str, path: str, params: dict[str, Any]
               ) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            cursor = {"starting_after": after} if after else {}
            result = self._call(kind, "get", path, {**params, "limit": PAGE, **cursor})
            rows = result.get("data") or []
            if rows:
                yield rows
            if not result.get("has_more") or not rows:
                return
            after = str(rows[-1]["id"])


def _subscription(sub: dict[str, Any]) -> BillingSubscription:
    items = (sub.get("items") or {}).get("data") or []
    period = sum(int((item.get("price") or {}).get("unit_amount") or 0)
                 * int(item.get("quantity") or 1) for item in items)
    customer = sub.get("customer")
    return BillingSubscription(
        id=str(sub["id"]),
        customer_id=str(customer["id"] if isinstance(customer, dict) else customer),
        status=str(sub.get("status") or ""),
        currency=str(sub.get("currency") or "").upper(),
        period_minor=period,
        description=sub.get("description"),
        metadata=dict(sub.get("metadata") or {}),
    )
