"""The `item` and `apply` sublists as sent: `{"items": [{...}, ...]}`, validated line by line.

A sublist given in a write replaces the record's lines. `resolve` turns a reference into an
internal id (or raises), so the lines come back ready to store.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandbox.netsuite import values
from sandbox.netsuite.errors import invalid_content, user_error

Resolver = Callable[[values.Ref, str, str], str]  # (ref, target record type, error path) -> id

# NetSuite keeps unit prices and quantities finer than any currency's precision.
UNIT_PLACES = 8
ITEM_LINE_FIELDS = ("item", "description", "quantity", "rate", "amount", "orderLine",
                    "revRecStartDate", "revRecEndDate", "taxCode")
APPLY_LINE_FIELDS = ("doc", "apply", "amount")


def _lines(value: Any, path: str, known: tuple[str, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        raise invalid_content(
            f'Invalid content in the request body: {path} must be an object like '
            '{"items": [...]}.',
            path,
        )
    for key in value:
        if key not in ("items", "links"):
            raise invalid_content(
                f"Invalid content in the request body: unknown property {key} in sublist {path}.",
                f"{path}.{key}",
            )
    items = value.get("items")
    if not isinstance(items, list):
        raise invalid_content(
            f"Invalid content in the request body: {path}.items must be an array.",
            f"{path}.items",
        )
    for i, line in enumerate(items):
        where = f"{path}.items[{i}]"
        if not isinstance(line, dict):
            raise invalid_content(
                f"Invalid content in the request body: {where} must be an object.", where
            )
        for key in line:
            if key not in known:
                raise invalid_content(
                    f"Invalid content in the request body: {key} is not a valid field of "
                    f"sublist {path}.",
                    f"{where}.{key}",
                )
    return items


lines = _lines  # the cash records' sublists (sandbox/netsuite/cash.py) read the same envelope


def _missing(label: str, path: str) -> Exception:
    return user_error(f"Please enter value(s) for: {label}", path)


def item_lines(value: Any, resolve: Resolver, path: str = "item") -> list[dict[str, Any]]:
    """Item lines as stored: item id, description, quantity (default 1), rate, amount."""
    out: list[dict[str, Any]] = []
    for i, line in enumerate(_lines(value, path, ITEM_LINE_FIELDS)):
        where = f"{path}.items[{i}]"
        if line.get("item") is None:
            raise _missing("Item", f"{where}.item")
        if line.get("amount") is None:
            raise _missing("Amount", f"{where}.amount")
        stored: dict[str, Any] = {
            "item": resolve(values.reference(line["item"], f"{where}.item"), "serviceSaleItem",
                            f"{where}.item"),
            "quantity": Decimal(1),
            "amount": values.number(line["amount"], f"{where}.amount"),
        }
        if line.get("description") is not None:
            stored["description"] = values.text(line["description"], f"{where}.description",
                                                4000)
        for name in ("quantity", "rate"):
            if line.get(name) is not None:
                number = values.number(line[name], f"{where}.{name}")
                stored[name] = values.places(number, UNIT_PLACES, f"{where}.{name}")
        for name in ("revRecStartDate", "revRecEndDate"):
            if line.get(name) is not None:
                stored[name] = values.day(line[name], f"{where}.{name}")
        if line.get("taxCode") is not None:
            stored["taxCode"] = resolve(values.reference(line["taxCode"], f"{where}.taxCode"),
                                        "salesTaxItem", f"{where}.taxCode")
        if line.get("orderLine") is not None:
            stored["orderLine"] = _line_number(line["orderLine"], f"{where}.orderLine")
        out.append(stored)
    return out


def _line_number(value: Any, path: str) -> int:
    """`orderLine`: the 1-based `line` of the sales order line an invoice line bills."""
    number = values.number(value, path)
    if number != number.to_integral_value() or number < 1:
        raise invalid_content(
            f"Invalid content in the request body: {path} must be a line number (1 or more).",
            path)
    return int(number)


def apply_lines(value: Any, resolve: Resolver, path: str = "apply") -> list[dict[str, Any]]:
    """Applications as stored: invoice id and amount; lines with `"apply": false` drop out."""
    out: list[dict[str, Any]] = []
    for i, line in enumerate(_lines(value, path, APPLY_LINE_FIELDS)):
        where = f"{path}.items[{i}]"
        if line.get("doc") is None:
            raise _missing("Invoice", f"{where}.doc")
        doc = resolve(values.reference(line["doc"], f"{where}.doc"), "invoice", f"{where}.doc")
        applies = values.boolean(line["apply"], f"{where}.apply") if "apply" in line else True
        amount = None
        if line.get("amount") is not None:
            amount = values.number(line["amount"], f"{where}.amount")
        if not applies:
            continue
        if amount is None:
            raise _missing("Payment", f"{where}.amount")
        out.append({"doc": doc, "amount": amount, "line": i})
    return out
