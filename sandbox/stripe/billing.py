"""Subscriptions: creation with its first invoice, updates with prorations, cancellation, renewal.

Modern (2025+) shapes: `current_period_start/end` live on each subscription item, not on the
subscription; invoices name their subscription under `parent.subscription_details` (the top-level
`subscription` is kept too, as in Stripe's example). The first invoice (`subscription_create`) is
finalized at once and, for `charge_automatically`, paid from the subscription's or the customer's
default payment method: success makes the subscription `active`, a decline leaves it `incomplete`
(and `expired` after 23 h) unless `payment_behavior=error_if_incomplete`, which answers 402 and
creates nothing. Renewals produce a draft `subscription_cycle` invoice that Stripe finalizes about
an hour later. `cancel_at` ends the subscription at that time, with the last period prorated
(a first period shortened by it at creation only when `proration_behavior` allows prorations).
A renewal first enters the subscription schedule's phase that starts then (`schedules.py`).
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.catalog import PRICE_DATA_SPEC, RECURRING_PRICE_DATA_SPEC, owned_payment_method
from sandbox.stripe.clock import period_boundary
from sandbox.stripe.invoices import (
    NO_PAYMENT_METHOD,
    attempt_payment,
    describe,
    finalize,
    new_invoice,
    new_line,
    payment_method_for,
    pull_pending_items,
    recompute,
    void,
)
from sandbox.stripe.items import create_invoice_item, new_subscription_item, resolve_price
from sandbox.stripe.objects import build, list_object, new_id
from sandbox.stripe.prorations import change_items
from sandbox.stripe.schedules import complete, enter_phase
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.tax_rates import resolve as resolve_tax_rates
from sandbox.stripe.wire import invalid, merge_metadata, missing, require

ITEM_SPEC = {"price": "str", "price_data": RECURRING_PRICE_DATA_SPEC, "quantity": "int",
             "metadata": "meta", "tax_rates": ["str"]}
ADD_ITEM_SPEC = {"price": "str", "price_data": PRICE_DATA_SPEC, "quantity": "int",
                 "metadata": "meta", "tax_rates": ["str"]}
_COMMON = {
    "metadata": "meta", "collection_method": "str", "days_until_due": "int",
    "default_payment_method": "str", "cancel_at": "ts", "cancel_at_period_end": "bool",
    "payment_behavior": "str", "proration_behavior": "str", "description": "str",
    "backdate_start_date": "ts", "default_tax_rates": ["str"],
    "off_session": "bool", "add_invoice_items": [ADD_ITEM_SPEC], "billing_cycle_anchor": "ts",
}
CREATE_SPEC = {**_COMMON, "customer": "str", "items": [ITEM_SPEC], "currency": "str"}
UPDATE_SPEC = {**_COMMON, "items": [{**ITEM_SPEC, "id": "str", "deleted": "bool"}],
               "proration_date": "ts",
               "cancellation_details": {"comment": "str", "feedback": "str"}}
CANCEL_SPEC = {"invoice_now": "bool", "prorate": "bool",
               "cancellation_details": {"comment": "str", "feedback": "str"}}
INCOMPLETE_EXPIRY = 23 * 3_600


def _interval(sub: dict[str, Any]) -> tuple[str, int]:
    rec = sub["items"]["data"][0]["price"]["recurring"]
    return rec["interval"], rec["interval_count"]


def _period_after(sub: dict[str, Any], start: int) -> int:
    """End of the period starting at `start`, counted from the billing cycle anchor."""
    interval, count = _interval(sub)
    n = 1
    while period_boundary(sub["billing_cycle_anchor"], interval, count, n) <= start:
        n += 1
    return period_boundary(sub["billing_cycle_anchor"], interval, count, n)


def _bill_items(st: State, sub: dict[str, Any], inv: dict[str, Any], start: int, end: int,
                full: tuple[int, int]) -> None:
    """One line per item for [start, end), prorated against the whole period `full`."""
    for item in sub["items"]["data"]:
        whole = item["price"]["unit_amount"] * item["quantity"]
        span = full[1] - full[0]
        amount = whole if (start, end) == full else (
            (2 * whole * (end - start) + span) // (2 * span))
        product = st.get("product", item["price"]["product"])
        new_line(st, inv, amount=amount, quantity=item["quantity"],
                 description=describe(item["price"], product, item["quantity"]),
                 period={"start": start, "end": end}, price=item["price"],
                 subscription=sub["id"], subscription_item=item["id"],
                 tax_rates=item["tax_rates"])


def create_subscription(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "customer")
    if not p.get("items"):
        raise missing("items")
    cus = st.get("customer", p["customer"], param="customer")
    method = p.get("collection_method") or "charge_automatically"
    behavior = p.get("payment_behavior") or "allow_incomplete"
    if method == "send_invoice" and p.get("days_until_due") is None:
        raise missing("days_until_due")
    if method == "charge_automatically" and p.get("days_until_due") is not None:
        raise invalid("Only subscriptions with collection_method=send_invoice can set "
                      "days_until_due.", param="days_until_due")
    if p.get("default_payment_method"):
        owned_payment_method(st, p["default_payment_method"], cus["id"], "default_payment_method")
    prices = [resolve_price(st, it, f"items[{i}]", recurring=True)
              for i, it in enumerate(p["items"])]
    shapes = {(pr["currency"], pr["recurring"]["interval"], pr["recurring"]["interval_count"])
              for pr in prices}
    if len(shapes) > 1:
        raise invalid("Currency and interval fields must match across all plans on this "
                      "subscription. Found mismatches in interval and currency.", param="items")
    if method == "charge_automatically" and behavior != "default_incomplete" and not (
            p.get("default_payment_method") or cus["invoice_settings"]["default_payment_method"]
    ) and any(pr["unit_amount"] for pr in prices):
        raise invalid(NO_PAYMENT_METHOD, code="resource_missing")
    now = st.now
    # backdate_start_date: the first period (and invoice) starts in the past, anchored there.
    start = p.get("backdate_start_date")
    if start is not None and start >= now:
        raise invalid("backdate_start_date must be in the past.", param="backdate_start_date")
    start = now if start is None else start
    anchor = p.get("billing_cycle_anchor")
    anchor = start if anchor in (None, "now") else anchor
    if anchor < start or (anchor < now and anchor != start):
        raise invalid("billing_cycle_anchor cannot be in the past.", param="billing_cycle_anchor")
    cancel_at = now if p.get("cancel_at") == "now" else p.get("cancel_at")
    if cancel_at is not None and cancel_at <= now:
        raise invalid("cancel_at must be in the future.", param="cancel_at")
    sub_id = new_id("subscription")
    sub = build(
        "subscription", id=sub_id, created=now, start_date=start, customer=cus["id"],
        currency=prices[0]["currency"], collection_method=method,
        days_until_due=p.get("days_until_due"), billing_cycle_anchor=anchor,
        default_payment_method=p.get("default_payment_method"), description=p.get("description"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v}, cancel_at=cancel_at,
        status="active" if method == "send_invoice" else "incomplete",
        items=list_object([], f"/v1/subscription_items?subscription={sub_id}"),
        default_tax_rates=resolve_tax_rates(st, p.get("default_tax_rates"), "default_tax_rates"),
    )
    sub["invoice_settings"]["issuer"] = {"type": "self"}
    # anchor in the future: the first period runs up to it, prorated against a whole period
    interval, count = prices[0]["recurring"]["interval"], prices[0]["recurring"]["interval_count"]
    if anchor > now:
        full = (period_boundary(anchor, interval, count, -1), anchor)
    else:
        full = (start, period_boundary(anchor, interval, count, 1))
    end = min(full[1], cancel_at) if cancel_at else full[1]
    for price, spec in zip(prices, p["items"], strict=True):
        sub["items"]["data"].append(new_subscription_item(st, sub_id, price, spec, (start, end)))
    st.add(sub)
    st.emit("customer.subscription.created", sub)
    inv = new_invoice(st, cus, billing_reason="subscription_create", collection_method=method,
                      currency=sub["currency"], subscription=sub, auto_advance=True,
                      days_until_due=p.get("days_until_due"))
    no_prorations = p.get("proration_behavior") == "none"
    if not (anchor > now and no_prorations):
        # A cancel_at inside the current period prorates it only "if prorations have been
        # enabled using proration_behavior" (API reference, cancel_at): with `none` the
        # shortened period bills the whole price.
        _bill_items(st, sub, inv, start, end, (start, end) if no_prorations else full)
    for i, extra in enumerate(p.get("add_invoice_items") or []):
        price = resolve_price(st, extra, f"add_invoice_items[{i}]", recurring=False)
        create_invoice_item(st, {"customer": cus["id"], "subscription": sub_id,
                                 "pricing": {"price": price["id"]},
                                 "quantity": extra.get("quantity", 1),
                                 "metadata": extra.get("metadata"),
                                 "tax_rates": extra.get("tax_rates")})
    pull_pending_items(st, inv, sub_id)
    recompute(st, inv)
    sub["latest_invoice"] = inv["id"]
    st.emit("invoice.created", inv)
    finalize(st, inv)
    if method == "charge_automatically" and behavior != "default_incomplete" and inv[
            "status"] == "open":
        error = attempt_payment(st, inv)
        if error and behavior == "error_if_incomplete":
            void(st, inv)
            st.remove("subscription", sub_id)
            raise error
    return sub


def update_subscription(st: State, sub_id: str, p: dict[str, Any]) -> dict[str, Any]:
    sub = st.get("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired") and set(p) - {
            "metadata", "cancellation_details", "expand"}:
        raise invalid("A canceled subscription can only update its cancellation_details and "
                      "metadata.")
    before = snapshot(sub)
    sub["metadata"] = merge_metadata(sub["metadata"], p.get("metadata"))
    for key in ("description", "days_until_due", "collection_method"):
        if key in p:
            sub[key] = p[key]
    if "default_tax_rates" in p:
        sub["default_tax_rates"] = resolve_tax_rates(st, p["default_tax_rates"],
                                                     "default_tax_rates")
    if "default_payment_method" in p:
        pm = p["default_payment_method"]
        sub["default_payment_method"] = owned_payment_method(
            st, pm, sub["customer"], "default_payment_method") if pm else None
    if sub["schedule"] and ({"cancel_at", "cancel_at_period_end"} & set(p)):
        raise invalid(f"The subscription is managed by the subscription schedule "
                      f"`{sub['schedule']}`, and updating any cancelation behavior directly is "
                      "not allowed. Please update the schedule instead.")
    if "cancel_at_period_end" in p:
        sub["cancel_at_period_end"] = p["cancel_at_period_end"]
        sub["cancel_at"] = current_period_end(sub) if p["cancel_at_period_end"] else None
    if "cancel_at" in p:
        sub["cancel_at"] = st.now if p["cancel_at"] == "now" else p["cancel_at"]
        sub["cancel_at_period_end"] = sub["cancel_at"] == current_period_end(sub)
    if p.get("cancellation_details"):
        sub["cancellation_details"].update(p["cancellation_details"])
    if p.get("items"):
        change_items(st, sub, p["items"], p.get("proration_behavior") or "create_prorations",
                     p.get("proration_date"))
    diff = changed(before, sub)
    if diff:
        st.emit("customer.subscription.updated", sub, diff)
    return sub


def cancel_subscription(st: State, sub_id: str, p: dict[str, Any]) -> dict[str, Any]:
    sub = st.get("subscription", sub_id)
    if sub["status"] == "canceled":
        raise invalid("A canceled subscription can only update its cancellation_details and "
                      "metadata.")
    end(st, sub, at=st.now, reason="cancellation_requested", details=p.get(
        "cancellation_details"))
    return sub


def end(st: State, sub: dict[str, Any], *, at: int, reason: str,
        details: dict[str, Any] | None = None) -> None:
    sub.update(status="canceled", canceled_at=at, ended_at=at)
    complete(st, sub, at)
    sub["cancellation_details"].update(details or {}, reason=reason)
    st.emit("customer.subscription.deleted", sub)


def current_period_end(sub: dict[str, Any]) -> int:
    return min(item["current_period_end"] for item in sub["items"]["data"])


def renew(st: State, sub: dict[str, Any]) -> None:
    """The clock reached the period end: open the next period with a draft cycle invoice."""
    before = snapshot(sub)
    start = current_period_end(sub)
    enter_phase(st, sub, start)
    natural = _period_after(sub, start)
    stop = min(natural, sub["cancel_at"]) if sub["cancel_at"] else natural
    old_start = sub["items"]["data"][0]["current_period_start"]
    for item in sub["items"]["data"]:
        item.update(current_period_start=start, current_period_end=stop)
    cus = st.get("customer", sub["customer"])
    inv = new_invoice(st, cus, billing_reason="subscription_cycle",
                      collection_method=sub["collection_method"], currency=sub["currency"],
                      subscription=sub, period=(old_start, start), auto_advance=True,
                      days_until_due=sub["days_until_due"])
    _bill_items(st, sub, inv, start, stop, (start, natural))
    pull_pending_items(st, inv, sub["id"])
    recompute(st, inv)
    sub["latest_invoice"] = inv["id"]
    st.emit("invoice.created", inv)
    st.emit("customer.subscription.updated", sub, changed(before, sub))


def auto_finalize(st: State, inv: dict[str, Any]) -> None:
    finalize(st, inv)
    if inv["collection_method"] == "charge_automatically" and inv["status"] == "open":
        if payment_method_for(st, inv, None) is None:
            inv["next_payment_attempt"] = None
            return
        attempt_payment(st, inv, automatic=True)


def expire_incomplete(st: State, sub: dict[str, Any]) -> None:
    inv = st.find("invoice", sub["latest_invoice"])
    if inv and inv["status"] == "open":
        void(st, inv)
    before = snapshot(sub)
    sub.update(status="incomplete_expired", ended_at=st.now)
    st.emit("customer.subscription.updated", sub, changed(before, sub))
