"""Invoice items (pending charges for a customer's next invoice) and price resolution for items.

In the 2025+ API an invoice item names its price under `pricing[price]` (the old top-level `price`
parameter is gone) or builds one with `price_data`, which needs an existing `product`. An item
stays pending (`invoice: null`) until the customer's next invoice, subscription invoices included,
unless it is created straight onto a draft invoice with `invoice=`.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.catalog import PRICE_DATA_SPEC, create_price
from sandbox.stripe.invoices import attach_item, recompute
from sandbox.stripe.objects import build, deleted, new_id, plan_from_price
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.tax_rates import resolve as resolve_tax_rates
from sandbox.stripe.wire import invalid, merge_metadata, missing, require

PERIOD = {"start": "int", "end": "int"}
CREATE_SPEC = {
    "customer": "str", "amount": "int", "currency": "str", "description": "str",
    "metadata": "meta", "invoice": "str", "subscription": "str", "quantity": "int",
    "pricing": {"price": "str"}, "price_data": PRICE_DATA_SPEC, "period": PERIOD,
    "discountable": "bool", "unit_amount_decimal": "str", "tax_rates": ["str"],
}
UPDATE_SPEC = {"amount": "int", "description": "str", "metadata": "meta", "quantity": "int",
               "period": PERIOD, "discountable": "bool", "tax_rates": ["str"]}


def resolve_price(st: State, item: dict[str, Any], prefix: str, *,
                  recurring: bool) -> dict[str, Any]:
    if item.get("price_data"):
        return create_price(st, item["price_data"], prefix=f"{prefix}[price_data]", inline=True)
    if not item.get("price"):
        raise missing(f"{prefix}[price]")
    price = st.get("price", item["price"], param=f"{prefix}[price]")
    want, other = ("recurring", "one_time") if recurring else ("one_time", "recurring")
    if price["type"] != want:
        raise invalid(f"The price specified is set to `type={other}` but this field only "
                      f"accepts prices with `type={want}`.", param=f"{prefix}[price]")
    return price


def new_subscription_item(st: State, sub_id: str, price: dict[str, Any], spec: dict[str, Any],
                          period: tuple[int, int]) -> dict[str, Any]:
    quantity = spec.get("quantity", 1)
    if quantity is None or quantity < 0:
        raise invalid("Invalid quantity: must be a non-negative integer.", param="quantity")
    return st.add(build(
        "subscription_item", id=new_id("subscription_item"), created=st.now,
        price=snapshot(price), plan=plan_from_price(price), quantity=quantity,
        subscription=sub_id, metadata=spec.get("metadata") or {},
        current_period_start=period[0], current_period_end=period[1],
        tax_rates=resolve_tax_rates(st, spec.get("tax_rates"), "tax_rates"),
    ))


def create_invoice_item(st: State, p: dict[str, Any], *,
                        proration: bool = False) -> dict[str, Any]:
    require(p, "customer")
    cus = st.get("customer", p["customer"], param="customer")
    quantity = p.get("quantity") or 1
    price = None
    if (p.get("pricing") or {}).get("price") or p.get("price_data"):
        ref = {"price": (p.get("pricing") or {}).get("price"), "price_data": p.get("price_data")}
        prefix = "price_data" if p.get("price_data") else "pricing"
        price = resolve_price(st, ref, prefix, recurring=False) if p.get(
            "price_data") else st.get("price", ref["price"], param="pricing[price]")
        unit, amount, currency = price["unit_amount"], price["unit_amount"] * quantity, price[
            "currency"]
    elif p.get("amount") is not None:
        if not p.get("currency"):
            raise missing("currency")
        amount, currency = p["amount"], p["currency"].lower()
        unit = amount // quantity
    else:
        raise missing("amount")
    inv = None
    if p.get("invoice"):
        inv = st.get("invoice", p["invoice"], param="invoice")
        if inv["status"] != "draft":
            raise invalid("You can only add invoice items to draft invoices.", param="invoice",
                          code="invoice_not_editable")
    sub = st.get("subscription", p["subscription"], param="subscription") if p.get(
        "subscription") else None
    product = st.find("product", price["product"]) if price else None
    rates = resolve_tax_rates(st, p.get("tax_rates"), "tax_rates")
    period = p.get("period") or {"start": st.now, "end": st.now}
    ii = st.add(build(
        "invoiceitem", id=new_id("invoiceitem"), date=st.now, customer=cus["id"],
        amount=amount, currency=currency, quantity=quantity, proration=proration,
        description=p.get("description") or (product or {}).get("name"), period=period,
        metadata={k: v for k, v in (p.get("metadata") or {}).items() if v}, invoice=None,
        discountable=p.get("discountable", not proration), net_amount=amount, tax_rates=rates,
        parent={"type": "subscription_details", "subscription_details": {
            "subscription": sub["id"]}} if sub else None,
        pricing={"type": "price_details", "unit_amount_decimal": str(unit),
                 "price_details": {"price": price["id"], "product": price["product"]}
                 if price else None},
    ))
    st.emit("invoiceitem.created", ii)
    if inv is not None:
        attach_item(st, inv, ii)
    return ii


def _editable(st: State, ii: dict[str, Any]) -> None:
    inv = st.find("invoice", ii["invoice"])
    if inv is not None and inv["status"] != "draft":
        raise invalid("Invoice items on a finalized invoice cannot be modified or deleted.",
                      code="invoice_not_editable")


def update_invoice_item(st: State, ii_id: str, p: dict[str, Any]) -> dict[str, Any]:
    ii = st.get("invoiceitem", ii_id)
    _editable(st, ii)
    before = snapshot(ii)
    for key in ("amount", "description", "quantity", "period", "discountable"):
        if key in p:
            ii[key] = p[key]
    ii["metadata"] = merge_metadata(ii["metadata"], p.get("metadata"))
    if "amount" in p:
        ii["net_amount"] = ii["amount"]
    if "tax_rates" in p:
        ii["tax_rates"] = resolve_tax_rates(st, p["tax_rates"], "tax_rates")
        _retax(st, ii)
    st.emit("invoiceitem.updated", ii, changed(before, ii))
    return ii


def _retax(st: State, ii: dict[str, Any]) -> None:
    """An item's new rates reach its line on a draft invoice, and that invoice's totals."""
    inv = st.find("invoice", ii["invoice"])
    if inv is None:
        return
    for line in inv["lines"]["data"]:
        if (line["parent"].get("invoice_item_details") or {}).get("invoice_item") == ii["id"]:
            st.private(line["id"])["tax_rates"] = [r["id"] for r in ii["tax_rates"]] or None
    recompute(st, inv)


def delete_invoice_item(st: State, ii_id: str) -> dict[str, Any]:
    ii = st.get("invoiceitem", ii_id)
    _editable(st, ii)
    inv = st.find("invoice", ii["invoice"])
    if inv is not None:
        inv["lines"]["data"] = [
            ln for ln in inv["lines"]["data"]
            if (ln["parent"].get("invoice_item_details") or {}).get("invoice_item") != ii_id
        ]
        recompute(st, inv)
    st.remove("invoiceitem", ii_id)
    st.emit("invoiceitem.deleted", ii)
    return deleted("invoiceitem", ii_id)
