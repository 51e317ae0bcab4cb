"""Records of the emulated org behind one lock, indexed by id and by parent id.

Writes run in two phases, as on Salesforce: `prepare` deserialises a JSON body (unknown field or a
value of the wrong type fails the whole request), then `insert` / `update` apply save-time rules
(read-only fields, required fields, lookups, per-object logic in `rules`). Every write stamps
`LastModifiedDate` and `SystemModstamp` from a clock that never goes backwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sandbox.salesforce import rules
from sandbox.salesforce.errors import SalesforceError, not_found
from sandbox.salesforce.ids import IdFactory, normalize
from sandbox.salesforce.schema import FieldDef, Schema, SObjectDef
from sandbox.salesforce.values import check_stored, coerce

Record = dict[str, Any]
Values = dict[str, Any]  # canonical field name -> coerced value


class Store:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.lock = threading.RLock()
        self._ids = IdFactory()
        self._tables: dict[str, dict[str, Record]] = {o.name: {} for o in schema.objects()}
        self._children: dict[tuple[str, str], dict[str, dict[str, None]]] = {}
        self._deleted: set[str] = set()
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self._undo: list[tuple[str, str, Record | None]] | None = None
        self.default_user_id = ""

    # -- reads -------------------------------------------------------------------------------

    def table(self, sobject: str) -> dict[str, Record]:
        return self._tables[sobject]

    def find(self, sobject: str, record_id: str | None) -> Record | None:
        if not record_id:
            return None
        return self._tables[sobject].get(record_id)

    def require(self, obj: SObjectDef, raw_id: str) -> Record:
        record_id = normalize(raw_id)
        if record_id in self._deleted:
            raise SalesforceError("ENTITY_IS_DELETED", "entity is deleted", status=404, fields=[])
        record = self.find(obj.name, record_id)
        if record is None:
            raise not_found()
        return record

    def children(self, child: str, fk: str, parent_id: str) -> list[Record]:
        ids = self._children.get((child, fk), {}).get(parent_id, {})
        table = self._tables[child]
        return [table[i] for i in ids]

    # -- writes ------------------------------------------------------------------------------

    def prepare(self, obj: SObjectDef, body: dict[str, Any]) -> Values:
        values: Values = {}
        for key, raw in body.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                raise SalesforceError(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            values[f.name] = coerce(f, raw)
        return values

    def insert(self, obj: SObjectDef, values: Values) -> str:
        with self.lock:
            _reject_read_only(obj, values, creating=True)
            record: Record = {f.name: _default(f, self) for f in obj.fields.values()}
            record.update(values)
            _check_required(obj, record, values)
            self._check_values(obj, values, record)
            rules.before_insert(self, obj, record)
            record_id = self._ids.new(obj.key_prefix)
            stamp = self.stamp()
            record.update(Id=record_id, CreatedDate=stamp, LastModifiedDate=stamp,
                          SystemModstamp=stamp, IsDeleted=False)
            self._put(obj.name, record_id, record)
            rules.after_write(self, obj, record, None)
            return record_id

    def update(self, obj: SObjectDef, raw_id: str, values: Values) -> None:
        with self.lock:
            old = self.require(obj, raw_id)
            _reject_read_only(obj, values, creating=False)
            record = dict(old)
            record.update(values)
            _check_required(obj, record, values)
            self._check_values(obj, values, record)
            rules.before_update(self, obj, record, old, values)
            self.touch(obj.name, record)
            rules.after_write(self, obj, record, old)

    def delete(self, obj: SObjectDef, raw_id: str) -> None:
        with self.lock:
            record = self.require(obj, raw_id)
            for child, fk in rules.before_delete(self, obj, record):
                for child_rec in self.children(child, fk, record["Id"]):
                    self.delete(self.schema.require(child), child_rec["Id"])
            self._put(obj.name, record["Id"], None)
            self._deleted.add(record["Id"])
            rules.after_write(self, obj, None, record)

    def touch(self, sobject: str, record: Record) -> None:
        """Store `record` (a modified copy) with fresh modification stamps."""
        stamp = self.stamp()
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        self._put(sobject, record["Id"], record)

    def stamp(self) -> datetime:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_stamp = max(now, self._last_stamp)
        return self._last_stamp

    def system_insert(self, obj: SObjectDef, record: Record) -> str:
        """Insert bypassing save rules, for records the org ships with (user, standard book)."""
        with self.lock:
            full = {f.name: None for f in obj.fields.values()}
            full.update(record)
            record_id = self._ids.new(obj.key_prefix)
            stamp = self.stamp()
            full.update(Id=record_id, CreatedDate=stamp, LastModifiedDate=stamp,
                        SystemModstamp=stamp, IsDeleted=False)
            self._put(obj.name, record_id, full)
            return record_id

    # -- all-or-none -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[list[bool]]:
        """Collect undo steps; roll them all back on an exception or when the yielded flag list
        is given a False. Nested transactions fold into the enclosing one on success."""
        with self.lock:
            outer = self._undo
            self._undo = []
            verdict: list[bool] = []
            try:
                yield verdict
            except BaseException:
                verdict.append(False)
                raise
            finally:
                steps, self._undo = self._undo, outer
                if False in verdict:
                    for sobject, record_id, old in reversed(steps):
                        self._put(sobject, record_id, old)
                        self._deleted.discard(record_id)
                elif outer is not None:
                    outer.extend(steps)

    # -- internals ---------------------------------------------------------------------------

    def _put(self, sobject: str, record_id: str, new: Record | None) -> None:
        table = self._tables[sobject]
        old = table.get(record_id)
        if self._undo is not None:
            self._undo.append((sobject, record_id, old))
        obj = self.schema.require(sobject)
        for f in obj.fields.values():
            if f.type != "reference":
                continue
            before = old.get(f.name) if old else None
            after = new.get(f.name) if new else None
            index = self._children.setdefault((sobject, f.name), {})
            if before and before != after:
                index.get(before, {}).pop(record_id, None)
            if after:
                index.setdefault(after, {})[record_id] = None
        if new is None:
            table.pop(record_id, None)
        else:
            table[record_id] = new

    def _check_values(self, obj: SObjectDef, values: Values, record: Record) -> None:
        for name, value in values.items():
            f = obj.fields[name.lower()]
            record[name] = check_stored(f, value)
            if f.type == "reference" and value is not None:
                record[name] = self._check_reference(f, value)

    def _check_reference(self, f: FieldDef, value: str) -> str:
        label = f.name.removesuffix("Id") + " ID"
        record_id = normalize(value)
        if record_id is None:
            raise SalesforceError(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", fields=[f.name]
            )
        target = self.schema.require(f.reference_to or "")
        if record_id[:3] != target.key_prefix:
            raise SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{label}: id value of incorrect type: {value}",
                fields=[f.name],
            )
        if record_id in self._deleted:
            raise SalesforceError("ENTITY_IS_DELETED", "entity is deleted", fields=[])
        if record_id not in self._tables[target.name]:
            raise SalesforceError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[]
            )
        return record_id


def _default(f: FieldDef, store: Store) -> Any:
    if f.default == "owner":
        return store.default_user_id
    return f.default


def _reject_read_only(obj: SObjectDef, values: Values, *, creating: bool) -> None:
    flag = "createable" if creating else "updateable"
    bad = [name for name in values if not getattr(obj.fields[name.lower()], flag)]
    if bad:
        raise SalesforceError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(bad)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            fields=bad,
        )


def _check_required(obj: SObjectDef, record: Record, values: Values) -> None:
    missing = []
    for f in obj.fields.values():
        if f.type == "boolean" and record.get(f.name) is None and f.name in values:
            record[f.name] = False  # Salesforce stores a null checkbox as unchecked.
        elif not f.nillable and f.createable and record.get(f.name) is None:
            missing.append(f.name)
    if missing:
        raise SalesforceError(
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            fields=missing,
        )
