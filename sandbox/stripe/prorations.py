"""Mid-period item changes on a subscription, with Stripe's proration behaviours.

`create_prorations` (the default) adds two pending invoice items per changed item, a credit for
the unused time at the old price and a charge for the remaining time at the new one, both
`proration: true`, which wait for the next invoice; `always_invoice` bills them now on a
`subscription_update` invoice; `none` changes the items silently. Fractions are by the second,
from `proration_date` when given ("the proration will be calculated as though the subscription
was updated at the given time"; it must fall in the current period), else from now; each line is
rounded to the cent on its own, half up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.stripe.invoices import (
    TIMES,
    attempt_payment,
    finalize,
    new_invoice,
    pull_pending_items,
)
from sandbox.stripe.items import create_invoice_item, new_subscription_item, resolve_price
from sandbox.stripe.objects import plan_from_price
from sandbox.stripe.state import State, snapshot
from sandbox.stripe.tax_rates import resolve as resolve_tax_rates
from sandbox.stripe.wire import invalid

BEHAVIOURS = ("create_prorations", "always_invoice", "none")


def _prorate(st: State, sub: dict[str, Any], item: dict[str, Any], sign: int,
             label: str, at: int) -> None:
    start, end = item["current_period_start"], item["current_period_end"]
    if end <= start or at >= end:
        return
    whole = item["price"]["unit_amount"] * item["quantity"]
    # Integer arithmetic: a float share of a large price can be a cent off.
    amount = sign * ((2 * whole * (end - at) + (end - start)) // (2 * (end - start)))
    if amount == 0:
        return
    product = st.get("product", item["price"]["product"])
    day = datetime.fromtimestamp(at, UTC).strftime("%d %b %Y")
    ii = create_invoice_item(st, {
        "customer": sub["customer"], "subscription": sub["id"], "amount": amount,
        "currency": sub["currency"], "period": {"start": at, "end": end},
        "description": f"{label} time on {item['quantity']} {TIMES} {product['name']} after {day}",
    }, proration=True)
    ii["pricing"]["price_details"] = {"price": item["price"]["id"],
                                      "product": item["price"]["product"]}
    ii["parent"]["subscription_details"]["subscription_item"] = item["id"]
    ii["tax_rates"] = list(item["tax_rates"])  # prorations are taxed like their item


def change_items(st: State, sub: dict[str, Any], changes: list[dict[str, Any]],
                 behaviour: str, proration_date: int | None = None) -> None:
    if behaviour not in BEHAVIOURS:
        raise invalid(f"Invalid proration_behavior: must be one of {', '.join(BEHAVIOURS)}",
                      param="proration_behavior")
    prorate = behaviour != "none"
    items = sub["items"]["data"]
    period = (items[0]["current_period_start"], items[0]["current_period_end"])
    at = st.now if proration_date is None else proration_date
    if not period[0] <= at < period[1]:
        raise invalid("proration_date must be within the subscription's current period.",
                      param="proration_date")
    for i, change in enumerate(changes):
        prefix = f"items[{i}]"
        current = next((it for it in items if it["id"] == change.get("id")), None)
        if change.get("id") and current is None:
            raise invalid(f"No such subscription item: '{change['id']}'", param=f"{prefix}[id]",
                          code="resource_missing")
        if current is not None and prorate:
            _prorate(st, sub, current, -1, "Unused", at)
        if current is not None and change.get("deleted"):
            items.remove(current)
            st.remove("subscription_item", current["id"])
            continue
        if current is None:
            price = resolve_price(st, change, prefix, recurring=True)
            current = new_subscription_item(st, sub["id"], price, change, period)
            items.append(current)
        else:
            if change.get("price") or change.get("price_data"):
                price = resolve_price(st, change, prefix, recurring=True)
                current.update(price=snapshot(price), plan=plan_from_price(price))
            if change.get("quantity") is not None:
                current["quantity"] = change["quantity"]
            if "tax_rates" in change:
                current["tax_rates"] = resolve_tax_rates(st, change["tax_rates"],
                                                         f"{prefix}[tax_rates]")
        if prorate:
            _prorate(st, sub, current, 1, "Remaining", at)
    if not items:
        raise invalid("A subscription must have at least one active plan.", param="items")
    if behaviour == "always_invoice":
        cus = st.get("customer", sub["customer"])
        inv = new_invoice(st, cus, billing_reason="subscription_update",
                          collection_method=sub["collection_method"], currency=sub["currency"],
                          subscription=sub, auto_advance=True,
                          days_until_due=sub["days_until_due"])
        pull_pending_items(st, inv, sub["id"])
        sub["latest_invoice"] = inv["id"]
        st.emit("invoice.created", inv)
        finalize(st, inv)
        if inv["collection_method"] == "charge_automatically" and inv["status"] == "open":
            attempt_payment(st, inv, automatic=True)
