"""The record service's writes: create, upsert by external id, partial update, and transform.

A write reads the body into stored values (types, formats and references, field by field, as
NetSuite rejects a body it can't deserialise before running any save logic), lays the changes
over the current record, checks required fields, external-id uniqueness and the transaction
rules, and only then commits. All of it happens under the store lock, so a failed write changes
nothing and two concurrent upserts of one external id yield one record.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.netsuite import cash, oneworld, sublists, values
from sandbox.netsuite.billing import invoice_from_order
from sandbox.netsuite.errors import NetSuiteError, invalid_content, nonexistent, user_error
from sandbox.netsuite.rules import settle
from sandbox.netsuite.schema import (
    CREDIT_MEMO,
    INVOICE,
    SALES_ORDER,
    Field,
    RecordType,
    record_type,
)
from sandbox.netsuite.store import Record, Store

NONEXISTENT_RECORD = (
    "The record instance does not exist. Provide a valid record instance ID."
)
_ALWAYS_READ_ONLY = ("id", "links")


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- lookups -------------------------------------------------------------------------------

    def find(self, rtype: RecordType, key: str) -> Record:
        """A record by internal id, or by external id when `key` is `eid:<externalId>`."""
        if key.startswith("eid:"):
            record = self.store.by_external_id(rtype, key[4:])
        else:
            record = self.store.get(rtype, key)
        if record is None:
            raise nonexistent(NONEXISTENT_RECORD)
        return record

    # -- writes --------------------------------------------------------------------------------

    def create(self, rtype: RecordType, body: Any) -> str:
        with self.store.lock:
            return self._insert(rtype, self._read(rtype, body))

    def upsert(self, rtype: RecordType, external_id: str, body: Any) -> str:
        """Create the record with this external id, or update the fields given if it exists."""
        if not external_id:
            raise invalid_content("The external ID in the URL is empty.", "externalId")
        with self.store.lock:
            changes = self._read(rtype, body)
            changes["externalId"] = values.text(external_id, "externalId", 255)
            existing = self.store.by_external_id(rtype, external_id)
            if existing is None:
                return self._insert(rtype, changes)
            self._update(rtype, existing, changes)
            return str(existing["id"])

    def update(self, rtype: RecordType, key: str, body: Any) -> str:
        with self.store.lock:
            existing = self.find(rtype, key)
            self._update(rtype, existing, self._read(rtype, body))
            return str(existing["id"])

    def transform(self, source: RecordType, key: str, target: RecordType, body: Any) -> str:
        """A new `target` record made from an existing `source` one (Transforming Records).

        Sales order → invoice is `billing.invoice_from_order`. Invoice → credit memo: the memo
        copies the invoice's customer, currency (and exchange rate) and item lines and applies
        itself to what is still open on the invoice; the body may set more of the memo's fields
        (an external id, the date, a memo). The date defaults to today.
        """
        if (source, target) not in ((INVOICE, CREDIT_MEMO), (SALES_ORDER, INVOICE)):
            raise user_error(f"You can't transform a {source.name} into a {target.name}.")
        with self.store.lock:
            found = self.find(source, key)
            changes = self._read(target, body) if body is not None else {}
            if source is SALES_ORDER:
                return self._insert(target, invoice_from_order(self.store, found, changes))
            still_open = found["total"] - self.store.applied_to(str(found["id"]))
            record: dict[str, Any] = {
                "entity": found["entity"], "currency": found["currency"],
                "tranDate": date.today(), "item": [dict(line) for line in found["item"]],
                "apply": [{"doc": str(found["id"]), "amount": still_open, "line": 0}]
                if still_open > 0 else [],
            }
            if found.get("exchangeRate") is not None:
                record["exchangeRate"] = found["exchangeRate"]
            record.update(changes)
            return self._insert(target, record)

    def _insert(self, rtype: RecordType, changes: dict[str, Any]) -> str:
        record: Record = dict(changes)
        self._complete(rtype, record)
        eid = record.get("externalId")
        if eid is not None and self.store.by_external_id(rtype, eid) is not None:
            raise NetSuiteError(
                "DUP_RCRD",
                f'A {rtype.name} record with the external ID "{eid}" already exists.',
                path="externalId",
            )
        oneworld.check(self.store, rtype, record)
        settle(self.store, rtype, record, None)
        if rtype.tran_prefix and record.get("tranId") is None:
            record["tranId"] = f"{rtype.tran_prefix}{self.store.next_number(rtype)}"
        return self.store.insert(rtype, record)

    def _update(self, rtype: RecordType, existing: Record, changes: dict[str, Any]) -> None:
        record = self.store.snapshot(existing)
        record.update(changes)
        self._complete(rtype, record)
        eid = record.get("externalId")
        if eid is not None and eid != existing.get("externalId"):
            other = self.store.by_external_id(rtype, eid)
            if other is not None and other["id"] != existing["id"]:
                raise NetSuiteError(
                    "DUP_RCRD",
                    f'A {rtype.name} record with the external ID "{eid}" already exists.',
                    path="externalId",
                )
        oneworld.check(self.store, rtype, record)
        settle(self.store, rtype, record, existing)
        self.store.replace(rtype, record)

    def _complete(self, rtype: RecordType, record: Record) -> None:
        """Drop cleared fields, put back the defaults of those that can't be empty, and insist
        on the required ones."""
        for f in rtype.fields:
            if record.get(f.name) is not None:
                continue
            record.pop(f.name, None)
            if f.required:
                raise user_error(f"Please enter value(s) for: {f.name}", f.name)
            if f.kind == "bool":
                record[f.name] = False
            elif f.kind == "applies":
                record[f.name] = []

    def _resolve(self, ref: values.Ref, target: str, path: str) -> str:
        rtype = record_type(target)
        assert rtype is not None
        if ref.external_id is not None:
            found = self.store.by_external_id(rtype, ref.external_id)
        else:
            found = self.store.get(rtype, ref.id or "")
        if found is None:
            raise invalid_content(
                "Error while accessing resource: You have entered an Invalid Field Value "
                f"{ref.shown()} for the following field: {path.rsplit('.', 1)[-1]}",
                path,
            )
        return str(found["id"])

    # -- reading a body ------------------------------------------------------------------------

    def _read(self, rtype: RecordType, body: Any) -> dict[str, Any]:
        """The body's fields in stored form, references resolved (so: under the lock)."""
        if not isinstance(body, dict):
            raise invalid_content(
                "Invalid content in the request body: the body must be a JSON object."
            )
        changes: dict[str, Any] = {}
        for name, value in body.items():
            f = rtype.field(name)
            if f is None:
                if name in rtype.computed or name in _ALWAYS_READ_ONLY:
                    raise invalid_content(
                        f"Invalid content in the request body: the field {name} is read-only.",
                        name,
                    )
                raise invalid_content(
                    f"Invalid content in the request body: {name} is not a valid field of "
                    f"record type {rtype.name}.",
                    name,
                )
            changes[name] = None if value is None else _read_value(f, value, self._resolve)
        return changes


def _read_value(f: Field, value: Any, resolve: sublists.Resolver) -> Any:
    if f.kind == "text":
        return values.text(value, f.name, f.max_length)
    if f.kind == "email":
        return values.email(value, f.name, f.max_length) or None
    if f.kind == "bool":
        return values.boolean(value, f.name)
    if f.kind == "date":
        return values.day(value, f.name)
    if f.kind == "money":
        return values.number(value, f.name)
    if f.kind == "ref":
        return resolve(values.reference(value, f.name), f.target or "", f.name)
    if f.kind == "lines":
        return sublists.item_lines(value, resolve, f.name)
    if f.kind == "glines":
        return cash.gl_lines(value, resolve, f.name)
    if f.kind == "refunds":
        return cash.refund_lines(value, resolve, f.name)
    return sublists.apply_lines(value, resolve, f.name)
