"""Records as the API writes them: amounts as decimal strings in the record's currency, computed
balances on invoices and adjustments, an `href`, and (for the query service) dotted field names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.intacct import objects as o
from sandbox.intacct.store import ZERO, Store


def record(store: Store, obj: str, row: dict[str, Any]) -> dict[str, Any]:
    held = row.get("currency")
    currency = (held.get("txnCurrency") if isinstance(held, dict) else held) or "USD"
    out = _strings(row, currency)
    out["href"] = o.href(obj, row["key"])
    if obj in (o.INVOICE, o.ADJUSTMENT, o.SALES_ORDER):
        total = store.total(row)
        out["totalTxnAmount"] = o.money(total, currency)
    if obj == o.INVOICE:
        paid = store.applied.get(row["key"], ZERO)
        out["totalTxnAmountPaid"] = o.money(paid, currency)
        out["totalTxnAmountDue"] = o.money(total - paid, currency)
        out["state"] = "paid" if paid >= total else "partiallyPaid" if paid else "posted"
    if obj == o.ADVANCE:
        total = store.total(row)
        applied = store.applied.get(row["key"], ZERO)
        out["totalTxnAmount"] = o.money(total, currency)
        out["totalTxnAmountApplied"] = o.money(applied, currency)
        out["totalTxnAmountDue"] = o.money(total - applied, currency)
    if obj == o.ADJUSTMENT:
        applied = store.applied.get(row["key"], ZERO)
        out["totalTxnAmountApplied"] = o.money(applied, currency)
        out["totalTxnAmountDue"] = o.money(total + applied, currency)
    return out


def adjustment_lines(store: Store) -> list[dict[str, Any]]:
    """Every adjustment's lines as rows of their own, each naming its adjustment."""
    return _document_lines(store, o.ADJUSTMENT, "arAdjustment", "adjustmentDate")


def invoice_lines(store: Store) -> list[dict[str, Any]]:
    """Every AR invoice's lines as rows of their own, each naming its invoice and dated with it."""
    return _document_lines(store, o.INVOICE, "invoice", "invoiceDate")


def _document_lines(store: Store, obj: str, parent: str, dated: str) -> list[dict[str, Any]]:
    """An AR document's lines, each naming the document as `parent` and dated with it, in its
    entity (the owned-line objects the query service reads)."""
    rows = []
    for doc in store.rows[obj].values():
        currency = doc["currency"]["txnCurrency"]
        for n, line in enumerate(doc["lines"], start=1):
            rows.append(_strings({**line, "key": f"{doc['key']}-{n}", "entity": doc.get("entity"),
                                  "entryDate": doc.get(dated),
                                  "currency": {"txnCurrency": currency},
                                  parent: {"key": doc["key"], "id": doc["id"]}}, currency))
    return rows


def _strings(value: Any, currency: str) -> Any:
    if isinstance(value, Decimal):
        return o.money(value, currency)
    if isinstance(value, dict):
        return {k: _strings(v, currency) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, currency) for v in value]
    return value


def field(rendered: dict[str, Any], dotted: str) -> Any:
    """`customer.id` of a rendered record; None where any part is missing."""
    value: Any = rendered
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
