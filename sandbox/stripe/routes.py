"""The endpoint table: method, path template, parameter spec, handler.

Specs list every parameter the emulator understands for that endpoint; anything else is rejected
as Stripe rejects it. List endpoints take Stripe's list filters; `GET /v1/subscriptions` leaves
canceled subscriptions out unless `status=canceled` or `status=all`, as Stripe does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.stripe import (
    account,
    billing,
    catalog,
    credit_notes,
    invoices,
    items,
    payments,
    schedules,
    tax_rates,
)
from sandbox.stripe.events import matches
from sandbox.stripe.listing import paginate, search
from sandbox.stripe.objects import build, deleted, new_id
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid, merge_metadata, require

Handler = Callable[..., dict[str, Any]]
LIST = {"limit": "int", "starting_after": "str", "ending_before": "str", "created": "range"}
SEARCH = {"query": "str", "limit": "int", "page": "str"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    spec: dict[str, Any]
    handler: Handler


def _get(kind: str) -> Handler:
    return lambda st, p, id: st.get(kind, id)


def _list(kind: str, url: str, **filters: str) -> tuple[dict[str, Any], Handler]:
    """A list endpoint filtering `kind` on exact field matches (param name → field path)."""
    def handler(st: State, p: dict[str, Any]) -> dict[str, Any]:
        rows = st.all(kind)
        for param, path in filters.items():
            if p.get(param) is not None:
                rows = [r for r in rows if _field(r, path) == p[param]]
        return paginate(rows, p, url)
    spec = {**LIST, **{name: ("bool" if name in ("active", "pending") else "str")
                       for name in filters}}
    return spec, handler


def _invoice_payments() -> tuple[dict[str, Any], Handler]:
    """Stripe filters invoice payments by `payment[type]` and `payment[payment_intent]`."""
    spec, plain = _list("invoice_payment", "/v1/invoice_payments", invoice="invoice",
                        status="status", payment_intent="payment.payment_intent")

    def handler(st: State, p: dict[str, Any]) -> dict[str, Any]:
        wanted = p.pop("payment", None) or {}
        if wanted.get("payment_intent"):
            p["payment_intent"] = wanted["payment_intent"]
        return plain(st, p)
    return {**spec, "payment": {"type": "str", "payment_intent": "str"}}, handler


def _field(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _search(kind: str, url: str, fields: set[str]) -> Handler:
    return lambda st, p: search(st.all(kind), p, fields, url)


def _invoice_action(action: Callable[..., dict[str, Any]]) -> Handler:
    return lambda st, p, id: action(st, st.get("invoice", id))


def _list_subscriptions(st: State, p: dict[str, Any]) -> dict[str, Any]:
    rows = st.all("subscription")
    status = p.get("status")
    if status is None:
        rows = [r for r in rows if r["status"] not in ("canceled", "incomplete_expired")]
    elif status != "all":
        rows = [r for r in rows if r["status"] == status]
    for key in ("customer", "collection_method"):
        if p.get(key):
            rows = [r for r in rows if r[key] == p[key]]
    if p.get("price"):
        rows = [r for r in rows if any(i["price"]["id"] == p["price"] for i in r["items"]["data"])]
    return paginate(rows, p, "/v1/subscriptions")


def _update_invoice(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    inv = st.get("invoice", id)
    before = snapshot(inv)
    if inv["status"] != "draft" and set(p) - {"metadata", "description", "footer", "expand"}:
        raise invalid("Finalized invoices can't be updated in this way",
                      code="invoice_not_editable")
    for key in ("description", "footer", "auto_advance", "collection_method", "due_date",
                "default_payment_method"):
        if key in p:
            inv[key] = p[key]
    if "default_tax_rates" in p:
        inv["default_tax_rates"] = tax_rates.resolve(st, p["default_tax_rates"],
                                                     "default_tax_rates")
        invoices.recompute(st, inv)
    if "days_until_due" in p:
        st.private(id)["days_until_due"] = p["days_until_due"]
    inv["metadata"] = merge_metadata(inv["metadata"], p.get("metadata"))
    st.emit("invoice.updated", inv, changed(before, inv))
    return inv


def _create_invoice(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "customer")
    cus = st.get("customer", p["customer"], param="customer")
    method = p.get("collection_method") or "charge_automatically"
    if method == "send_invoice" and p.get("days_until_due") is None and not p.get("due_date"):
        raise invalid("Invoices with collection_method=send_invoice must have either a due_date "
                      "or days_until_due.", param="days_until_due")
    sub = st.get("subscription", p["subscription"], param="subscription") if p.get(
        "subscription") else None
    inv = invoices.new_invoice(
        st, cus, billing_reason="manual", collection_method=method,
        currency=(p.get("currency") or cus["currency"] or "usd").lower(), subscription=sub,
        days_until_due=p.get("days_until_due"), auto_advance=p.get("auto_advance", False),
        description=p.get("description"), footer=p.get("footer"), due_date=p.get("due_date"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
        default_payment_method=p.get("default_payment_method"),
        default_tax_rates=tax_rates.resolve(st, p.get("default_tax_rates"), "default_tax_rates"),
    )
    if p.get("pending_invoice_items_behavior") == "include":
        invoices.pull_pending_items(st, inv, sub["id"] if sub else None)
    st.emit("invoice.created", inv)
    return inv


def _finalize(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    inv = st.get("invoice", id)
    if "auto_advance" in p:
        inv["auto_advance"] = p["auto_advance"]
    invoices.finalize(st, inv)
    if inv["auto_advance"] and inv["collection_method"] == "charge_automatically" and inv[
            "status"] == "open":
        invoices.attempt_payment(st, inv, automatic=True)
    return inv


def _delete_invoice(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    inv = st.get("invoice", id)
    if inv["status"] != "draft":
        raise invalid("You can only delete draft invoices.")
    for ii in st.all("invoiceitem"):
        if ii["invoice"] == id:
            ii["invoice"] = None
    st.remove("invoice", id)
    st.emit("invoice.deleted", inv)
    return deleted("invoice", id)


def _balance_txn(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    require(p, "amount", "currency")
    cus = st.get("customer", id)
    cus["balance"] += p["amount"]
    txn = st.add(build(
        "customer_balance_transaction", id=new_id("customer_balance_transaction"),
        created=st.now, amount=p["amount"], currency=p["currency"].lower(), customer=id,
        description=p.get("description"), ending_balance=cus["balance"], type="adjustment",
        metadata=p.get("metadata") or {}))
    st.emit("customer.updated", cus, {"balance": cus["balance"] - p["amount"]})
    return txn


def _cus_rows(kind: str, url: str) -> Handler:
    return lambda st, p, id: paginate(
        [r for r in st.all(kind) if r["customer"] == st.get("customer", id)["id"]], p,
        url.format(id=id))


def _create_webhook(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "url", "enabled_events")
    extra = {k: p[k] for k in ("description", "api_version") if p.get(k)}
    return st.webhooks.add_endpoint(p["url"], p["enabled_events"],
                                   metadata=p.get("metadata") or {}, **extra)


def _update_webhook(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    we = st.get("webhook_endpoint", id)
    for key in ("url", "enabled_events", "description"):
        if key in p:
            we[key] = p[key]
    if "disabled" in p:
        we["status"] = "disabled" if p["disabled"] else "enabled"
    we["metadata"] = merge_metadata(we["metadata"], p.get("metadata"))
    return we


def _delete_webhook(st: State, p: dict[str, Any], id: str) -> dict[str, Any]:
    st.get("webhook_endpoint", id)
    st.remove("webhook_endpoint", id)
    return deleted("webhook_endpoint", id)


def _list_events(st: State, p: dict[str, Any]) -> dict[str, Any]:
    rows = st.all("event")
    if p.get("type"):
        rows = [e for e in rows if matches([p["type"]], e["type"])]
    if p.get("types"):
        if p.get("type"):
            raise invalid("You may only specify one of these parameters: type, types.")
        rows = [e for e in rows if e["type"] in p["types"]]
    return paginate(rows, p, "/v1/events")


CARD = {"customer": "str", "metadata": "meta"}
INVOICE_SPEC = {
    "customer": "str", "auto_advance": "bool", "collection_method": "str",
    "days_until_due": "int", "description": "str", "metadata": "meta", "subscription": "str",
    "pending_invoice_items_behavior": "str", "default_payment_method": "str", "due_date": "int",
    "currency": "str", "footer": "str", "default_tax_rates": ["str"],
}
WEBHOOK_SPEC = {"url": "str", "enabled_events": ["str"], "description": "str",
                "metadata": "meta", "api_version": "str", "disabled": "bool"}
CBT_SPEC = {"amount": "int", "currency": "str", "description": "str", "metadata": "meta"}

_L = {
    "customers": _list("customer", "/v1/customers", email="email"),
    "products": _list("product", "/v1/products", active="active"),
    "prices": _list("price", "/v1/prices", product="product", active="active", type="type",
                    currency="currency"),
    "invoices": _list("invoice", "/v1/invoices", customer="customer", status="status",
                      subscription="subscription", collection_method="collection_method"),
    "invoiceitems": _list("invoiceitem", "/v1/invoiceitems", customer="customer",
                          invoice="invoice"),
    "invoice_payments": _invoice_payments(),
    "payment_intents": _list("payment_intent", "/v1/payment_intents", customer="customer"),
    "charges": _list("charge", "/v1/charges", customer="customer",
                     payment_intent="payment_intent"),
    "credit_notes": _list("credit_note", "/v1/credit_notes", invoice="invoice",
                          customer="customer"),
    "subscription_items": _list("subscription_item", "/v1/subscription_items",
                                subscription="subscription"),
    "subscription_schedules": _list("subscription_schedule", "/v1/subscription_schedules",
                                    customer="customer"),
    "webhook_endpoints": _list("webhook_endpoint", "/v1/webhook_endpoints"),
    "payment_methods": _list("payment_method", "/v1/payment_methods", customer="customer",
                             type="type"),
}


def _r(method: str, path: str, spec: dict[str, Any], handler: Handler) -> Route:
    return Route(method, path, spec, handler)


ROUTES: list[Route] = [
    _r("GET", "/v1/balance", {}, account.balance),
    _r("POST", "/v1/customers", catalog.CUSTOMER_SPEC, catalog.create_customer),
    _r("GET", "/v1/customers", *_L["customers"]),
    _r("GET", "/v1/customers/search", SEARCH,
       _search("customer", "/v1/customers/search", {"email", "name", "phone", "metadata",
                                                    "created"})),
    _r("GET", "/v1/customers/:id", {}, _get("customer")),
    _r("POST", "/v1/customers/:id", catalog.CUSTOMER_SPEC,
       lambda st, p, id: catalog.update_customer(st, id, p)),
    _r("DELETE", "/v1/customers/:id", {}, lambda st, p, id: catalog.delete_customer(st, id)),
    _r("GET", "/v1/customers/:id/balance_transactions", LIST,
       _cus_rows("customer_balance_transaction", "/v1/customers/{id}/balance_transactions")),
    _r("POST", "/v1/customers/:id/balance_transactions", CBT_SPEC, _balance_txn),
    _r("GET", "/v1/customers/:id/payment_methods", {**LIST, "type": "str"},
       _cus_rows("payment_method", "/v1/customers/{id}/payment_methods")),
    _r("POST", "/v1/products", catalog.PRODUCT_SPEC, catalog.create_product),
    _r("GET", "/v1/products", *_L["products"]),
    _r("GET", "/v1/products/:id", {}, _get("product")),
    _r("POST", "/v1/products/:id", catalog.PRODUCT_SPEC,
       lambda st, p, id: catalog.update_product(st, id, p)),
    _r("DELETE", "/v1/products/:id", {}, lambda st, p, id: catalog.delete_product(st, id)),
    _r("POST", "/v1/prices", catalog.PRICE_SPEC, catalog.create_price),
    _r("GET", "/v1/prices", *_L["prices"]),
    _r("GET", "/v1/prices/:id", {}, _get("price")),
    _r("POST", "/v1/prices/:id", catalog.PRICE_UPDATE_SPEC,
       lambda st, p, id: catalog.update_price(st, id, p)),
    _r("GET", "/v1/payment_methods", *_L["payment_methods"]),
    _r("GET", "/v1/payment_methods/:id", {}, _get("payment_method")),
    _r("POST", "/v1/payment_methods/:id/attach", CARD,
       lambda st, p, id: catalog.attach_payment_method(st, id, p.get("customer"))),
    _r("POST", "/v1/subscriptions", billing.CREATE_SPEC, billing.create_subscription),
    _r("GET", "/v1/subscriptions", {**LIST, "customer": "str", "status": "str", "price": "str",
                                    "collection_method": "str"}, _list_subscriptions),
    _r("GET", "/v1/subscriptions/search", SEARCH,
       _search("subscription", "/v1/subscriptions/search", {"status", "metadata", "created"})),
    _r("GET", "/v1/subscriptions/:id", {}, _get("subscription")),
    _r("POST", "/v1/subscriptions/:id", billing.UPDATE_SPEC,
       lambda st, p, id: billing.update_subscription(st, id, p)),
    _r("DELETE", "/v1/subscriptions/:id", billing.CANCEL_SPEC,
       lambda st, p, id: billing.cancel_subscription(st, id, p)),
    _r("POST", "/v1/subscription_schedules", schedules.CREATE_SPEC, schedules.create_schedule),
    _r("GET", "/v1/subscription_schedules", *_L["subscription_schedules"]),
    _r("GET", "/v1/subscription_schedules/:id", {}, _get("subscription_schedule")),
    _r("POST", "/v1/subscription_schedules/:id", schedules.UPDATE_SPEC,
       lambda st, p, id: schedules.update_schedule(st, id, p)),
    _r("POST", "/v1/subscription_schedules/:id/release", {"preserve_cancel_date": "bool"},
       lambda st, p, id: schedules.release_schedule(st, id)),
    _r("GET", "/v1/subscription_items", *_L["subscription_items"]),
    _r("GET", "/v1/subscription_items/:id", {}, _get("subscription_item")),
    _r("POST", "/v1/invoices", INVOICE_SPEC, _create_invoice),
    _r("GET", "/v1/invoices", *_L["invoices"]),
    _r("GET", "/v1/invoices/search", SEARCH,
       _search("invoice", "/v1/invoices/search", {"customer", "status", "subscription", "total",
                                                  "number", "metadata", "created", "currency"})),
    _r("GET", "/v1/invoices/:id", {}, _get("invoice")),
    _r("POST", "/v1/invoices/:id", INVOICE_SPEC, _update_invoice),
    _r("DELETE", "/v1/invoices/:id", {}, _delete_invoice),
    _r("GET", "/v1/invoices/:id/lines", LIST, lambda st, p, id: paginate(
        list(reversed(st.get("invoice", id)["lines"]["data"])), p, f"/v1/invoices/{id}/lines")),
    _r("POST", "/v1/invoices/:id/finalize", {"auto_advance": "bool"}, _finalize),
    _r("POST", "/v1/invoices/:id/pay", {"payment_method": "str", "paid_out_of_band": "bool",
                                        "forgive": "bool", "off_session": "bool"},
       lambda st, p, id: invoices.pay(st, st.get("invoice", id), p)),
    _r("POST", "/v1/invoices/:id/void", {}, _invoice_action(invoices.void)),
    _r("POST", "/v1/invoices/:id/mark_uncollectible", {},
       _invoice_action(invoices.mark_uncollectible)),
    _r("POST", "/v1/invoices/:id/send", {}, _invoice_action(invoices.send)),
    _r("POST", "/v1/invoiceitems", items.CREATE_SPEC, items.create_invoice_item),
    _r("GET", "/v1/invoiceitems", *_L["invoiceitems"]),
    _r("GET", "/v1/invoiceitems/:id", {}, _get("invoiceitem")),
    _r("POST", "/v1/invoiceitems/:id", items.UPDATE_SPEC,
       lambda st, p, id: items.update_invoice_item(st, id, p)),
    _r("DELETE", "/v1/invoiceitems/:id", {},
       lambda st, p, id: items.delete_invoice_item(st, id)),
    _r("GET", "/v1/invoice_payments", *_L["invoice_payments"]),
    _r("GET", "/v1/invoice_payments/:id", {}, _get("invoice_payment")),
    _r("POST", "/v1/payment_intents", payments.PI_SPEC, payments.create_payment_intent),
    _r("GET", "/v1/payment_intents", *_L["payment_intents"]),
    _r("GET", "/v1/payment_intents/:id", {}, _get("payment_intent")),
    _r("POST", "/v1/payment_intents/:id", payments.PI_SPEC,
       lambda st, p, id: payments.update_payment_intent(st, id, p)),
    _r("POST", "/v1/payment_intents/:id/confirm", {"payment_method": "str", "off_session": "bool",
                                                   "return_url": "str", "mandate_data": "any"},
       lambda st, p, id: payments.confirm_payment_intent(st, id, p)),
    _r("POST", "/v1/payment_intents/:id/cancel", {"cancellation_reason": "str"},
       lambda st, p, id: payments.cancel_payment_intent(st, id, p)),
    _r("GET", "/v1/charges", *_L["charges"]),
    _r("GET", "/v1/charges/:id", {}, _get("charge")),
    _r("POST", "/v1/credit_notes", credit_notes.CREATE_SPEC, credit_notes.create_credit_note),
    _r("GET", "/v1/credit_notes", *_L["credit_notes"]),
    _r("GET", "/v1/credit_notes/:id", {}, _get("credit_note")),
    _r("POST", "/v1/credit_notes/:id/void", {},
       lambda st, p, id: credit_notes.void_credit_note(st, id)),
    _r("GET", "/v1/credit_notes/:id/lines", LIST, lambda st, p, id: paginate(
        st.get("credit_note", id)["lines"]["data"], p, f"/v1/credit_notes/{id}/lines")),
    _r("POST", "/v1/tax_rates", tax_rates.CREATE_SPEC, tax_rates.create_tax_rate),
    _r("GET", "/v1/tax_rates", tax_rates.LIST_SPEC, tax_rates.list_tax_rates),
    _r("GET", "/v1/tax_rates/:id", {}, _get("tax_rate")),
    _r("POST", "/v1/tax_rates/:id", tax_rates.UPDATE_SPEC,
       lambda st, p, id: tax_rates.update_tax_rate(st, id, p)),
    _r("GET", "/v1/events", {**LIST, "type": "str", "types": ["str"]}, _list_events),
    _r("GET", "/v1/events/:id", {}, _get("event")),
    _r("POST", "/v1/webhook_endpoints", WEBHOOK_SPEC, _create_webhook),
    _r("GET", "/v1/webhook_endpoints", *_L["webhook_endpoints"]),
    _r("GET", "/v1/webhook_endpoints/:id", {}, _get("webhook_endpoint")),
    _r("POST", "/v1/webhook_endpoints/:id", WEBHOOK_SPEC, _update_webhook),
    _r("DELETE", "/v1/webhook_endpoints/:id", {}, _delete_webhook),
]
