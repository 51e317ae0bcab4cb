"""Records in the shape the record service answers with: HATEOAS links, references as
`{"links", "id", "refName"}`, empty fields left out, sublists expanded on request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.netsuite import billing, rules
from sandbox.netsuite.schema import (
    CREDIT_MEMO,
    CUSTOMER,
    CUSTOMER_PAYMENT,
    INVOICE,
    SALES_ORDER,
    RecordType,
    record_type,
)
from sandbox.netsuite.store import Record, Store

RECORD_PATH = "/services/rest/record/v1"


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Renderer:
    """Renders with `store.lock` held by the caller; the output shares nothing with the store."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    def href(self, type_name: str, record_id: str) -> str:
        return f"{self.base_url}{RECORD_PATH}/{type_name}/{record_id}"

    def links(self, href: str) -> list[dict[str, str]]:
        return [{"rel": "self", "href": href}]

    def ref(self, type_name: str, record_id: str) -> dict[str, Any]:
        rtype = record_type(type_name)
        assert rtype is not None
        target = self.store.get(rtype, record_id) or {}
        return {"links": self.links(self.href(rtype.name, record_id)), "id": record_id,
                "refName": _ref_name(rtype, target)}

    def record(self, rtype: RecordType, record: Record, *, expand: bool) -> dict[str, Any]:
        href = self.href(rtype.name, record["id"])
        out: dict[str, Any] = {"links": self.links(href), "id": record["id"]}
        if record.get("externalId") is not None:
            out["externalId"] = record["externalId"]
        for f in rtype.fields:
            value = record.get(f.name)
            if value is None or f.name == "externalId":
                continue
            if f.kind == "ref":
                out[f.name] = self.ref(f.target or "", value)
            elif f.kind in ("lines", "applies", "glines", "refunds"):
                out[f.name] = (self.sublist(rtype, record, f.name) if expand
                               else {"links": self.links(f"{href}/{f.name}")})
            else:
                out[f.name] = value
        out.update(self.computed(rtype, record))
        return out

    def computed(self, rtype: RecordType, record: Record) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if rtype is CUSTOMER:
            out["entityId"] = record["companyName"]
            out["dateCreated"] = timestamp(record["createdDate"])
        elif rtype.computed:
            out["createdDate"] = timestamp(record["createdDate"])
        if rtype.computed:
            out["lastModifiedDate"] = timestamp(record["lastModifiedDate"])
        if not rtype.is_transaction:
            return out
        out["tranId"] = record["tranId"]
        if "total" in record:
            out["total"] = record["total"]
        if rtype is INVOICE:
            if record.get("createdFrom") is not None:
                out["createdFrom"] = self.ref("salesOrder", record["createdFrom"])
            paid, remaining = rules.invoice_balance(self.store, record)
            out["amountPaid"] = paid
            out["amountRemaining"] = remaining
        if rtype in (CUSTOMER_PAYMENT, CREDIT_MEMO):
            out["applied"] = record["applied"]
            out["unapplied"] = record["unapplied"]
        if rtype is CREDIT_MEMO:  # what customer refunds paid out is no longer open either
            out["unapplied"] = out["amountRemaining"] = rules.amount_remaining(
                self.store, rtype, record)
        code, name = rules.status(self.store, rtype, record)
        out["status"] = {"id": code, "refName": name}
        return out

    def sublist(self, rtype: RecordType, record: Record, name: str) -> dict[str, Any]:
        href = f"{self.href(rtype.name, record['id'])}/{name}"
        lines = record.get(name, [])
        items = [self.item_line(i, line) if name == "item"
                 else self.gl_line(i, line) if name in ("line", "other")
                 else self.apply_line(line, "creditMemo" if rtype.name == "customerRefund"
                                      else "invoice")
                 for i, line in enumerate(lines)]
        if rtype is SALES_ORDER and name == "item":
            for item, done in zip(items, billing.line_billed(self.store, record), strict=True):
                item["quantityBilled"] = done
        return {"links": self.links(href), "items": items, "count": len(items),
                "totalResults": len(items), "hasMore": False, "offset": 0}

    def item_line(self, index: int, line: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"line": index + 1, "item": self.ref("serviceSaleItem", line["item"])}
        for key in ("description", "quantity", "rate", "amount", "orderLine", "revRecStartDate",
                    "revRecEndDate"):
            if line.get(key) is not None:
                out[key] = line[key]
        if line.get("taxCode") is not None:
            out["taxCode"] = self.ref("salesTaxItem", line["taxCode"])
        return out

    def apply_line(self, line: dict[str, Any], doc_type: str = "invoice") -> dict[str, Any]:
        rtype = record_type(doc_type)
        assert rtype is not None
        doc = self.store.get(rtype, line["doc"]) or {}
        return {"doc": self.ref(doc_type, line["doc"]), "apply": True,
                "amount": line["amount"], "refNum": doc.get("tranId", "")}

    def gl_line(self, index: int, line: dict[str, Any]) -> dict[str, Any]:
        """A journal line or a deposit's `other` line."""
        out: dict[str, Any] = {"line": index + 1, "account": self.ref("account", line["account"])}
        for key in ("debit", "credit", "amount", "memo"):
            if line.get(key) is not None:
                out[key] = line[key]
        return out


def _ref_name(rtype: RecordType, record: Record) -> str:
    if rtype is CUSTOMER:
        return str(record.get("companyName", ""))
    if rtype.name == "currency":
        return str(record.get("name", ""))
    if rtype.name == "account":
        return f"{record.get('acctNumber', '')} {record.get('acctName', '')}"
    if rtype.name == "serviceSaleItem":
        return str(record.get("itemId", ""))
    if rtype is INVOICE:
        return f"Invoice #{record.get('tranId', '')}"
    if not rtype.is_transaction:
        return str(record.get("name") or record.get("itemId") or record.get("acctName") or "")
    return str(record.get("tranId", ""))
