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
    if obj == o.ADJUSTMENT:
        applied = store.applied.get(row["key"], ZERO)
        out["totalTxnAmountApplied"] = o.money(applied, currency)
        out["totalTxnAmountDue"] = o.money(total + applied, currency)
    return out


def adjustment_lines(store: Store) -> list[dict[str, Any]]:
    """Every adjustment's lines as rows of their own, each naming its adjustment."""
    rows = []
    for adjustment in store.rows[o.ADJUSTMENT].values():
        currency = adjustment["currency"]["txnCurrency"]
        for n, line in enumerate(adjustment["lines"], start=1):
            rows.append(_strings({**line, "key": f"{adjustment['key']}-{n}",
                                  "currency": {"txnCurrency": currency},
                                  "arAdjustment": {"key": adjustment["key"],
                                                   "id": adjustment["id"]}}, currency))
    return rows


def gl_lines(store: Store) -> list[dict[str, Any]]:
    """The general ledger's lines: each journal entry's as given, and each AR invoice's and
    adjustment's lines against the account they name (a negative adjustment line is a debit).
    Their receivable side, and payments, are not listed (nothing reads them yet)."""
    rows: list[dict[str, Any]] = []
    for obj, day_field, kind in ((o.INVOICE, "invoiceDate", "invoice"),
                                 (o.ADJUSTMENT, "adjustmentDate", "adjustment")):
        for doc in store.rows[obj].values():
            currency = doc["currency"]["txnCurrency"]
            for n, line in enumerate(doc["lines"], start=1):
                rows.append(_gl_row(f"{doc['key']}-{n}", line["glAccount"]["id"],
                                    line["txnAmount"], doc.get(day_field), currency, doc, kind))
    for entry in store.rows[o.JOURNAL_ENTRY].values():
        currency = (entry.get("currency") or {}).get("txnCurrency") or "USD"
        for n, line in enumerate(entry["lines"], start=1):
            amount = line["txnAmount"] if line["txnType"] == "credit" else -line["txnAmount"]
            rows.append(_gl_row(f"{entry['key']}-{n}", line["glAccount"]["id"], amount,
                                entry.get("postingDate"), currency, entry, "journal"))
    return rows


def _gl_row(key: str, account: str, credit: Decimal, day: Any, currency: str,
            source: dict[str, Any], kind: str) -> dict[str, Any]:
    return _strings({"key": key, "glAccount": {"id": account}, "documentType": kind,
                     "txnType": "credit" if credit >= 0 else "debit", "txnAmount": abs(credit),
                     "entryDate": day, "currency": {"txnCurrency": currency},
                     "journalEntry": {"key": source["key"],
                                      "referenceNumber": source.get("referenceNumber")}},
                    currency)


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
