"""Run a bound query over the store and shape records the way the REST API returns them.

SOQL filters are two-valued: a comparison with a null field is simply false, except `= null`
and `!= null`, and `!=` / `NOT IN` match records whose field is null. String comparison and
ordering ignore case. Parent fields nest under the relationship name (null when the lookup is
empty); child subqueries nest as `{"totalSize", "done", "records"}`, or null with no children.
"""

from __future__ import annotations

from typing import Any

from sandbox.salesforce.bind import BoolOp, Bound, Comparison, Condition, Not, Order, Path, SubQuery
from sandbox.salesforce.schema import STRING_TYPES, SObjectDef
from sandbox.salesforce.store import Record, Store
from sandbox.salesforce.values import render


class Evaluator:
    def __init__(self, store: Store, version: str) -> None:
        self.store = store
        self.version = version

    def run(self, query: Bound) -> tuple[int, list[dict[str, Any]]]:
        """(totalSize, rendered records); call with the store lock held."""
        rows = self.select(query, self.store.table(query.obj.name).values())
        if query.count:
            return len(rows), []
        return len(rows), [self.render(query, r) for r in rows]

    def select(self, query: Bound, records: Any) -> list[Record]:
        rows = [r for r in records if query.where is None or self.test(query.where, r)]
        for order in reversed(query.order):
            rows.sort(key=lambda r, o=order: self.sort_key(o, r), reverse=order.desc)
        rows = rows[query.offset :]
        return rows if query.limit is None else rows[: query.limit]

    # -- filtering ---------------------------------------------------------------------------

    def value(self, path: Path, record: Record | None) -> Any:
        for hop in path.hops:
            if record is None:
                return None
            record = self.store.find(hop.reference_to or "", record.get(hop.name))
        return None if record is None else record.get(path.field.name)

    def test(self, cond: Condition, record: Record) -> bool:
        if isinstance(cond, BoolOp):
            if cond.op == "AND":
                return all(self.test(c, record) for c in cond.items)
            return any(self.test(c, record) for c in cond.items)
        if isinstance(cond, Not):
            return not self.test(cond.item, record)
        return self.compare(cond, self.value(cond.path, record))

    def compare(self, cond: Comparison, left: Any) -> bool:
        text = cond.path.field.type in STRING_TYPES
        if cond.op in ("IN", "NOT IN"):
            hit = any(_equal(left, v, text) for v in cond.values)
            return hit if cond.op == "IN" else not hit
        if cond.op == "LIKE":
            return left is not None and cond.like is not None and bool(cond.like.fullmatch(left))
        right = cond.values[0]
        if cond.op == "=":
            return _equal(left, right, text)
        if cond.op == "!=":
            return not _equal(left, right, text)
        if left is None or right is None:
            return False
        if text:
            left, right = left.casefold(), right.casefold()
        return {
            "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right
        }[cond.op]

    def sort_key(self, order: Order, record: Record) -> tuple[int, Any]:
        value = self.value(order.path, record)
        if value is None:
            # Rank nulls so that, after an optional reverse, they land where asked.
            return (0 if order.nulls_first != order.desc else 2, 0)
        if isinstance(value, str):
            value = value.casefold()
        return (1, value)

    # -- rendering ---------------------------------------------------------------------------

    def attributes(self, obj: SObjectDef, record_id: str) -> dict[str, str]:
        url = f"/services/data/v{self.version}/sobjects/{obj.name}/{record_id}"
        return {"type": obj.name, "url": url}

    def render(self, query: Bound, record: Record) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": self.attributes(query.obj, record["Id"])}
        for item in query.items:
            if isinstance(item, SubQuery):
                out[item.relationship.name] = self.children(item, record)
            else:
                self.place(out, record, item)
        return out

    def place(self, out: dict[str, Any], record: Record, path: Path) -> None:
        node, current = out, record
        for hop in path.hops:
            key = hop.relationship_name or ""
            target = self.store.schema.require(hop.reference_to or "")
            parent = self.store.find(target.name, current.get(hop.name))
            if key not in node:
                node[key] = None if parent is None else {
                    "attributes": self.attributes(target, parent["Id"])
                }
            if node[key] is None or parent is None:
                return
            node, current = node[key], parent
        node[path.field.name] = render(current.get(path.field.name))

    def children(self, sub: SubQuery, record: Record) -> dict[str, Any] | None:
        rel = sub.relationship
        rows = self.select(sub.query, self.store.children(rel.child, rel.field, record["Id"]))
        if not rows:
            return None
        return {
            "totalSize": len(rows),
            "done": True,
            "records": [self.render(sub.query, r) for r in rows],
        }

    def record(self, obj: SObjectDef, record: Record, names: list[str] | None) -> dict[str, Any]:
        """A record as `GET sobjects/{Type}/{Id}` returns it (all fields unless `names`)."""
        out: dict[str, Any] = {"attributes": self.attributes(obj, record["Id"])}
        fields = obj.fields.values() if names is None else [obj.fields[n.lower()] for n in names]
        for f in fields:
            out[f.name] = render(record.get(f.name))
        return out


def _equal(left: Any, right: Any, text: bool) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if text:
        return bool(left.casefold() == right.casefold())
    return bool(left == right)
