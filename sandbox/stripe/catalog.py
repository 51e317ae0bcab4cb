"""Customers, products, prices and payment methods.

Quirks kept: a customer gets an `invoice_prefix` of 8 upper-case characters at creation and numbers
its invoices `PREFIX-0001`, `PREFIX-0002`…; `invoice_settings.default_payment_method` must be a
payment method already attached to that customer. Test tokens such as `pm_card_visa` become a new
`pm_…` each time they are used (attach returns the new id, not the token). Inline `price_data`
(subscription and invoice items) needs an existing `product`: only `POST /v1/prices` accepts
`product_data`.
"""

from __future__ import annotations

import string
from typing import Any

from sandbox.stripe.objects import build, deleted, new_id, random_token
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid, merge_metadata, missing, require

# brand, last4, decline code (None = approves)
TEST_CARDS: dict[str, tuple[str, str, str | None]] = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "pm_card_createDispute": ("visa", "0259", None),
    "pm_card_refundFail": ("visa", "5126", None),
}
# What happens after a successful charge on these test cards (see payments.py).
AFTER_CHARGE = {"pm_card_createDispute": "dispute", "pm_card_refundFail": "refund_fails"}
INTERVALS = ("day", "week", "month", "year")
_MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}

ADDRESS = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"), "str")
CUSTOMER_SPEC = {
    "email": "str", "name": "str", "description": "str", "phone": "str", "metadata": "meta",
    "balance": "int", "invoice_prefix": "str", "payment_method": "str", "address": ADDRESS,
    "preferred_locales": ["str"], "tax_exempt": "str", "next_invoice_sequence": "int",
    "invoice_settings": {"default_payment_method": "str", "footer": "str", "custom_fields": "any"},
}
PRODUCT_SPEC = {
    "name": "str", "id": "str", "active": "bool", "description": "str", "metadata": "meta",
    "unit_label": "str", "url": "str", "images": ["str"], "tax_code": "str",
    "statement_descriptor": "str", "shippable": "bool",
}
RECURRING_SPEC = {"interval": "str", "interval_count": "int", "usage_type": "str"}
PRICE_DATA_SPEC = {"currency": "str", "product": "str", "unit_amount": "int",
                   "unit_amount_decimal": "str", "tax_behavior": "str"}
RECURRING_PRICE_DATA_SPEC = {**PRICE_DATA_SPEC, "recurring": RECURRING_SPEC}
PRICE_SPEC = {
    **PRICE_DATA_SPEC, "recurring": RECURRING_SPEC, "nickname": "str", "lookup_key": "str",
    "metadata": "meta", "active": "bool", "billing_scheme": "str",
    "product_data": {"name": "str", "metadata": "meta", "active": "bool", "id": "str",
                     "unit_label": "str", "statement_descriptor": "str", "tax_code": "str"},
}
PRICE_UPDATE_SPEC = {"metadata": "meta", "nickname": "str", "active": "bool", "lookup_key": "str"}


def create_customer(st: State, p: dict[str, Any]) -> dict[str, Any]:
    settings = p.get("invoice_settings") or {}
    cus = build(
        "customer", id=new_id("customer"), created=st.now, email=p.get("email"),
        name=p.get("name"), description=p.get("description"), phone=p.get("phone"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
        balance=p.get("balance") or 0, address=p.get("address"),
        invoice_prefix=p.get("invoice_prefix")
        or random_token(8, string.ascii_uppercase + string.digits),
        next_invoice_sequence=p.get("next_invoice_sequence") or 1,
        preferred_locales=p.get("preferred_locales") or [],
        tax_exempt=p.get("tax_exempt") or "none",
    )
    cus["invoice_settings"]["footer"] = settings.get("footer")
    st.add(cus)
    if p.get("payment_method"):
        attach_payment_method(st, p["payment_method"], cus["id"], emit=False)
    if settings.get("default_payment_method"):
        cus["invoice_settings"]["default_payment_method"] = owned_payment_method(
            st, settings["default_payment_method"], cus["id"],
            "invoice_settings[default_payment_method]")
    st.emit("customer.created", cus)
    return cus


def update_customer(st: State, cus_id: str, p: dict[str, Any]) -> dict[str, Any]:
    cus = st.get("customer", cus_id)
    before = snapshot(cus)
    for key in ("email", "name", "description", "phone", "address", "preferred_locales",
                "tax_exempt", "balance", "invoice_prefix", "next_invoice_sequence"):
        if key in p:
            cus[key] = p[key]
    cus["metadata"] = merge_metadata(cus["metadata"], p.get("metadata"))
    if p.get("payment_method"):
        attach_payment_method(st, p["payment_method"], cus_id)
    settings = p.get("invoice_settings") or {}
    if "default_payment_method" in settings:
        pm = settings["default_payment_method"]
        cus["invoice_settings"]["default_payment_method"] = (
            owned_payment_method(st, pm, cus_id, "invoice_settings[default_payment_method]")
            if pm else None)
    if "footer" in settings:
        cus["invoice_settings"]["footer"] = settings["footer"]
    if changed(before, cus):
        st.emit("customer.updated", cus, changed(before, cus))
    return cus


def delete_customer(st: State, cus_id: str) -> dict[str, Any]:
    cus = st.get("customer", cus_id)
    st.remove("customer", cus_id)
    st.emit("customer.deleted", cus)
    return deleted("customer", cus_id)


def create_product(st: State, p: dict[str, Any]) -> dict[str, Any]:
    require(p, "name")
    if p.get("id") and st.find("product", p["id"]):
        raise invalid(f"Product already exists with ID '{p['id']}'.", param="id",
                      code="resource_already_exists")
    prod = st.add(build(
        "product", id=p.get("id") or new_id("product"), created=st.now, updated=st.now,
        name=p["name"], active=p.get("active", True), description=p.get("description"),
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
        unit_label=p.get("unit_label"), url=p.get("url"), images=p.get("images") or [],
        tax_code=p.get("tax_code"), statement_descriptor=p.get("statement_descriptor"),
    ))
    st.emit("product.created", prod)
    return prod


def update_product(st: State, prod_id: str, p: dict[str, Any]) -> dict[str, Any]:
    prod = st.get("product", prod_id)
    before = snapshot(prod)
    for key in ("name", "active", "description", "unit_label", "url", "images", "tax_code"):
        if key in p:
            prod[key] = p[key]
    prod["metadata"] = merge_metadata(prod["metadata"], p.get("metadata"))
    prod["updated"] = st.now
    st.emit("product.updated", prod, changed(before, prod))
    return prod


def delete_product(st: State, prod_id: str) -> dict[str, Any]:
    st.get("product", prod_id)
    if any(pr["product"] == prod_id for pr in st.all("price")):
        raise invalid("This product cannot be deleted because it has one or more user-created "
                      "prices.", param="id")
    prod = st.get("product", prod_id)
    st.remove("product", prod_id)
    st.emit("product.deleted", prod)
    return deleted("product", prod_id)


def create_price(st: State, p: dict[str, Any], *, prefix: str = "",
                 inline: bool = False) -> dict[str, Any]:
    """A price from `POST /v1/prices` params, or from inline `price_data` (prefix names it)."""
    def name(field: str) -> str:
        return f"{prefix}[{field}]" if prefix else field

    for field in ("currency",) + (("product",) if inline else ()):
        if not p.get(field):
            raise missing(name(field))
    if p.get("unit_amount") is None and p.get("unit_amount_decimal") is None:
        raise missing(name("unit_amount"))
    amount = p["unit_amount"] if p.get("unit_amount") is not None else int(
        float(p["unit_amount_decimal"]))
    if amount < 0:
        raise invalid("This value must be greater than or equal to 0.",
                      param=name("unit_amount"))
    if p.get("product_data"):
        if p.get("product"):
            raise invalid("You may only specify one of these parameters: product, product_data.",
                          param="product")
        product = create_product(st, p["product_data"])["id"]
    elif p.get("product"):
        product = st.get("product", p["product"], param=name("product"))["id"]
    else:
        raise invalid("Missing required param: product.", param="product",
                      code="parameter_missing")
    recurring = None
    if p.get("recurring"):
        interval = p["recurring"].get("interval")
        if interval not in INTERVALS:
            raise invalid(f"Invalid recurring[interval]: must be one of {', '.join(INTERVALS)}",
                          param=name("recurring[interval]"))
        count = p["recurring"].get("interval_count") or 1
        if not 1 <= count <= _MAX_INTERVAL_COUNT[interval]:
            raise invalid("The maximum interval is 3 years.",
                          param=name("recurring[interval_count]"))
        recurring = {"interval": interval, "interval_count": count, "meter": None,
                     "usage_type": p["recurring"].get("usage_type") or "licensed",
                     "trial_period_days": None}
    price = st.add(build(
        "price", id=new_id("price"), created=st.now, currency=p["currency"].lower(),
        product=product, unit_amount=amount, unit_amount_decimal=str(amount),
        recurring=recurring, type="recurring" if recurring else "one_time",
        active=p.get("active", True) if not inline else False, nickname=p.get("nickname"),
        lookup_key=p.get("lookup_key"), tax_behavior=p.get("tax_behavior") or "unspecified",
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v},
    ))
    st.emit("price.created", price)
    return price


def update_price(st: State, price_id: str, p: dict[str, Any]) -> dict[str, Any]:
    price = st.get("price", price_id)
    before = snapshot(price)
    for key in ("nickname", "active", "lookup_key"):
        if key in p:
            price[key] = p[key]
    price["metadata"] = merge_metadata(price["metadata"], p.get("metadata"))
    st.emit("price.updated", price, changed(before, price))
    return price


def materialize_payment_method(st: State, ref: str, *, param: str) -> dict[str, Any]:
    if ref in TEST_CARDS:
        brand, last4, decline = TEST_CARDS[ref]
        pm = build("payment_method", id=new_id("payment_method"), created=st.now, type="card")
        pm["card"].update(brand=brand, display_brand=brand, last4=last4, exp_year=2034,
                          fingerprint=random_token(16), generated_from=None, wallet=None,
                          networks={"available": [brand], "preferred": None})
        st.private(pm["id"]).update(decline_code=decline, after_charge=AFTER_CHARGE.get(ref))
        return st.add(pm)
    return st.get("payment_method", ref, param=param)


def attach_payment_method(st: State, ref: str, cus_id: str, *, emit: bool = True) -> dict:
    cus = st.get("customer", cus_id, param="customer")
    pm = materialize_payment_method(st, ref, param="payment_method")
    if pm["customer"] and pm["customer"] != cus["id"]:
        raise invalid("The payment method you provided has already been attached to a "
                      "customer.", param="payment_method")
    pm["customer"] = cus["id"]
    if emit:
        st.emit("payment_method.attached", pm)
    return pm


def owned_payment_method(st: State, pm_id: str, cus_id: str, param: str) -> str:
    pm = st.find("payment_method", pm_id)
    if pm is None or pm["customer"] != cus_id:
        raise invalid(f"The customer does not have a payment method with the ID {pm_id}. The "
                      "payment method must be attached to the customer.", param=param)
    return pm_id


def payment_method_card(st: State, pm_id: str) -> tuple[dict[str, Any], str | None]:
    pm = st.get("payment_method", pm_id, param="payment_method")
    return pm, st.private(pm_id).get("decline_code")
