"""Everything billed, read back for the audit: products, customers, subscriptions, invoices and
credit notes, each listed in pages of 100 (`starting_after` the last id), never one call per
invoice. Only an invoice with more than the 10 lines a list embeds costs a call for the rest.

Quirks worth knowing:
- Subscriptions are listed with `status=all`: Stripe leaves canceled ones out by default.
- Since the 2025 API an invoice's subscription and its metadata are under
  `parent.subscription_details`, a line's product under `pricing.price_details.product`, a
  subscription's period on each item; taxes are `total_taxes` (the older `tax` is read too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sync.connectors.stripe_phases import phase_segments
from sync.ports import (
    BilledCredit,
    BilledInvoice,
    BilledItem,
    BilledLine,
    BilledSubscription,
    BillingBooks,
)

Call = Callable[[str, str, str, dict[str, Any]], dict[str, Any]]
PAGE = 100
_MONTHS = {"month": 1, "year": 12}


def read_books(call: Call) -> BillingBooks:
    products = {p["id"]: str(p.get("name") or "") for p in pages(call, "products", {})}
    return BillingBooks(
        customers=tuple((c["id"], (c.get("metadata") or {}).get("sf_account_id"))
                        for c in pages(call, "customers", {})),
        subscriptions=tuple(
            segment for s in pages(call, "subscriptions", {"status": "all"})
            for segment in phase_segments(call, s, _subscription(s, products), products)),
        invoices=tuple(_invoice(call, i, products) for i in pages(call, "invoices", {})),
        credits=tuple(_credit(n) for n in pages(call, "credit_notes", {})),
    )


def pages(call: Call, kind: str, params: dict[str, Any], path: str | None = None
          ) -> Iterator[dict[str, Any]]:
    """Every object of one list endpoint, a page of 100 at a time."""
    after: str | None = None
    while True:
        query = {**params, "limit": PAGE, **({"starting_after": after} if after else {})}
        page = call(f"{kind}.list", "get", path or f"/v1/{kind}", query)
        data = page.get("data") or []
        yield from data
        if not page.get("has_more") or not data:
            return
        after = data[-1]["id"]


def _at(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _meta(obj: dict[str, Any]) -> dict[str, str]:
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    return details.get("metadata") or obj.get("metadata") or {}


def _version(meta: dict[str, str]) -> int | None:
    value = meta.get("contract_version")
    return int(value) if value and str(value).isdigit() else None


def _product(obj: dict[str, Any], products: dict[str, str]) -> str | None:
    details = (obj.get("pricing") or {}).get("price_details") or {}
    product = details.get("product") or (obj.get("price") or {}).get("product")
    if isinstance(product, dict):
        return str(product.get("name") or "")
    return products.get(product, product) if product else None


def _subscription(sub: dict[str, Any], products: dict[str, str]) -> BilledSubscription:
    items = (sub.get("items") or {}).get("data") or []
    recurring = (items[0].get("price") or {}).get("recurring") or {} if items else {}
    months = _MONTHS.get(recurring.get("interval", ""))
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    meta = sub.get("metadata") or {}
    return BilledSubscription(
        id=sub["id"], customer_id=str(sub.get("customer")),
        opportunity_id=meta.get("sf_opportunity_id"), contract_version=_version(meta),
        key=meta.get("closebot_key"), status=str(sub.get("status")),
        currency=str(sub.get("currency") or "").upper(),
        interval_months=months * int(recurring.get("interval_count") or 1) if months else None,
        anchor=_at(sub.get("billing_cycle_anchor") or sub.get("start_date")) or datetime.now(UTC),
        current_period_end=_at(min(ends)) if ends else None,
        # A subscription that has ended bills nothing more, whatever its cancel_at said.
        cancel_at=_at(sub.get("ended_at") or sub.get("cancel_at")),
        items=tuple(BilledItem(product=_product(item, products),
                               unit_minor=int((item.get("price") or {}).get("unit_amount") or 0),
                               quantity=int(item.get("quantity") or 0)) for item in items),
    )


def _invoice(call: Call, inv: dict[str, Any], products: dict[str, str]) -> BilledInvoice:
    listed = inv.get("lines") or {}
    lines = list(listed.get("data") or [])
    if listed.get("has_more") and lines:
        lines += pages(call, "invoice_lines", {"starting_after": lines[-1]["id"]},
                       f"/v1/invoices/{inv['id']}/lines")
    taxes = inv.get("total_taxes")
    tax = sum(int(t.get("amount") or 0) for t in taxes) if taxes else int(inv.get("tax") or 0)
    meta = _meta(inv)
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    subscription = inv.get("subscription") or parent.get("subscription")
    customer = inv.get("customer")
    transitions = inv.get("status_transitions") or {}
    return BilledInvoice(
        id=inv["id"], number=inv.get("number"),
        customer_id=str(customer.get("id") if isinstance(customer, dict) else customer),
        opportunity_id=meta.get("sf_opportunity_id"), contract_version=_version(meta),
        subscription_id=subscription.get("id") if isinstance(subscription, dict) else subscription,
        key=(inv.get("metadata") or {}).get("closebot_key"),
        currency=str(inv.get("currency") or "").upper(), status=str(inv.get("status")),
        total_minor=int(inv.get("total") or 0), tax_minor=tax,
        amount_remaining_minor=int(inv.get("amount_remaining") or 0),
        issued_at=_at(transitions.get("finalized_at") or inv.get("created")),
        lines=tuple(_line(line, products) for line in lines),
    )


def _line(line: dict[str, Any], products: dict[str, str]) -> BilledLine:
    period = line.get("period") or {}
    return BilledLine(
        product=_product(line, products), amount_minor=int(line.get("amount") or 0),
        recurring=(line.get("parent") or {}).get("type") == "subscription_item_details",
        period_start=_at(period.get("start")), period_end=_at(period.get("end")),
    )


def _credit(note: dict[str, Any]) -> BilledCredit:
    invoice = note.get("invoice")
    return BilledCredit(
        id=note["id"], invoice_id=str(invoice.get("id") if isinstance(invoice, dict) else invoice),
        amount_minor=int(note.get("amount") or 0), currency=str(note.get("currency")).upper(),
        status=str(note.get("status")), key=(note.get("metadata") or {}).get("closebot_key"),
        created_at=_at(note.get("created")),
    )
