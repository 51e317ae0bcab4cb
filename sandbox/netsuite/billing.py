"""Billing a sales order: `!transform/invoice` and the order's billed state.

An invoice transformed from a sales order keeps a link to it (`createdFrom`) and each of its
lines may name the order line it bills (`orderLine`, the order line's `line`). Such a line
carries the order line's revenue terms: its revenue-recognition start and end dates unless the
body sets its own. Without item lines in the body, the invoice bills what is still unbilled on
each order line. The order shows what is billed: `quantityBilled` on each line (the line's
quantity in proportion to the amount billed, since service lines are billed by amount) and its
status, Pending Fulfillment → Pending Billing/Partially Fulfilled → Billed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.netsuite.errors import user_error
from sandbox.netsuite.store import Record, Store

_INHERITED = ("revRecStartDate", "revRecEndDate")
_HEAD = ("entity", "currency", "otherRefNum", "subsidiary", "department", "class", "location")
NOT_BILLED = ("B", "Pending Fulfillment")
PART_BILLED = ("E", "Pending Billing/Partially Fulfilled")
BILLED = ("G", "Billed")


def invoice_from_order(store: Store, order: Record, changes: dict[str, Any]) -> Record:
    """The invoice record a transform makes of `order`, with the body's `changes` laid over."""
    billed = store.billed(str(order["id"]))
    order_lines = order["item"]
    if changes.get("item") is not None:
        lines = [_linked(line, order_lines, i) for i, line in enumerate(changes["item"])]
    else:
        lines = []
        for number, line in enumerate(order_lines, start=1):
            left = line["amount"] - billed.get(number, Decimal(0))
            if left > 0:
                lines.append({**line, "amount": left, "orderLine": number})
        if not lines:
            raise user_error(f"The sales order {order['tranId']} is already billed in full.")
    record: Record = {name: order[name] for name in _HEAD if order.get(name) is not None}
    record["tranDate"] = date.today()
    record.update({k: v for k, v in changes.items() if v is not None})
    record.setdefault("dueDate", record["tranDate"])
    record["item"] = lines
    record["createdFrom"] = str(order["id"])
    return record


def _linked(line: dict[str, Any], order_lines: list[dict[str, Any]], i: int) -> dict[str, Any]:
    number = line.get("orderLine")
    if number is None:
        return line
    if number > len(order_lines):
        raise user_error(f"The sales order has no line {number}.", f"item.items[{i}].orderLine")
    source = order_lines[number - 1]
    return {**{k: source[k] for k in _INHERITED if k in source}, **line}


def line_billed(store: Store, order: Record) -> list[Decimal]:
    """`quantityBilled` of each order line."""
    billed = store.billed(str(order["id"]))
    out = []
    for number, line in enumerate(order["item"], start=1):
        amount, done = line["amount"], billed.get(number, Decimal(0))
        share = min(done / amount, Decimal(1)) if amount else Decimal(1 if done else 0)
        out.append((line["quantity"] * share).quantize(Decimal("0.00000001")).normalize())
    return out


def order_status(store: Store, order: Record) -> tuple[str, str]:
    billed = store.billed(str(order["id"]))
    if not any(billed.values()):
        return NOT_BILLED
    unbilled = any(line["amount"] > billed.get(n, Decimal(0))
                   for n, line in enumerate(order["item"], start=1))
    return PART_BILLED if unbilled else BILLED
