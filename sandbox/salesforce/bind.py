"""Resolve a parsed query against the schema: names to canonical fields, literals to field types.

This is where Salesforce's semantic errors come from: unknown objects (INVALID_TYPE), unknown
fields or relationships (INVALID_FIELD), literals of the wrong type for a field (INVALID_FIELD,
"must be of type date and should not be enclosed in quotes"), malformed ids in filters
(INVALID_QUERY_FILTER_OPERATOR), long text areas in WHERE or ORDER BY (INVALID_FIELD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce import soql
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.ids import normalize
from sandbox.salesforce.schema import (
    NUMBER_TYPES,
    STRING_TYPES,
    ChildRelationship,
    FieldDef,
    Schema,
    SObjectDef,
)

MAX_OFFSET = 2000
_KIND_FOR_TYPE = {"date": "date", "datetime": "datetime", "boolean": "boolean"}
_TYPE_WORD = {"date": "date", "datetime": "dateTime", "boolean": "boolean", "number": "double"}


@dataclass(frozen=True)
class Path:
    hops: tuple[FieldDef, ...]  # reference fields walked, in order
    field: FieldDef


@dataclass
class Comparison:
    path: Path
    op: str
    values: list[Any]
    like: re.Pattern[str] | None = None


@dataclass
class BoolOp:
    op: str
    items: list[Condition]


@dataclass
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass
class Order:
    path: Path
    desc: bool
    nulls_first: bool


@dataclass
class Bound:
    obj: SObjectDef
    items: list[Path | SubQuery] = field(default_factory=list)
    count: bool = False
    where: Condition | None = None
    order: list[Order] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


@dataclass
class SubQuery:
    relationship: ChildRelationship
    query: Bound


class Binder:
    def __init__(self, schema: Schema, text: str) -> None:
        self.schema = schema
        self.text = text

    def fail(self, pos: int, message: str, code: str = "INVALID_FIELD") -> SalesforceError:
        return soql.malformed(self.text, pos, message, code)

    def bind(self, q: soql.Query, obj: SObjectDef | None = None) -> Bound:
        if obj is None:
            found = self.schema.object(q.sobject)
            if found is None:
                raise self.fail(q.sobject_pos, self.schema_missing(q.sobject), "INVALID_TYPE")
            obj = found
        bound = Bound(obj, count=q.count, limit=q.limit, offset=q.offset or 0)
        if bound.offset > MAX_OFFSET:
            raise SalesforceError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        seen: set[str] = set()
        for item in q.fields:
            if isinstance(item, soql.Query):
                bound.items.append(self.subquery(obj, item))
                continue
            path = self.path(obj, item)
            key = ".".join([*(h.relationship_name or "" for h in path.hops), path.field.name])
            if key.lower() in seen:
                raise self.fail(item.pos, f"duplicate field selected: {key}", "MALFORMED_QUERY")
            seen.add(key.lower())
            bound.items.append(path)
        if q.where is not None:
            bound.where = self.condition(obj, q.where)
        for o in q.order_by:
            path = self.path(obj, o.field)
            if path.field.type == "textarea":
                raise self.fail(o.field.pos, f"field '{path.field.name}' can not be sorted in a "
                                "query call")
            # Salesforce sorts nulls first unless told otherwise, whatever the direction.
            first = True if o.nulls_first is None else o.nulls_first
            bound.order.append(Order(path, o.desc, first))
        return bound

    def schema_missing(self, name: str) -> str:
        return (
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names."
        )

    def subquery(self, parent: SObjectDef, q: soql.Query) -> SubQuery:
        rel = parent.children.get(q.sobject.lower())
        if rel is None:
            raise self.fail(
                q.sobject_pos,
                f"Didn't understand relationship '{q.sobject}' in FROM part of query call. If "
                "you are attempting to use a custom relationship, be sure to append the '__r' "
                "after the custom relationship name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
                "INVALID_TYPE",
            )
        return SubQuery(rel, self.bind(q, self.schema.require(rel.child)))

    def path(self, obj: SObjectDef, ref: soql.FieldRef) -> Path:
        hops: list[FieldDef] = []
        current = obj
        for name in ref.path[:-1]:
            hop = current.relationship(name)
            if hop is None:
                raise self.fail(
                    ref.pos,
                    f"Didn't understand relationship '{name}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            hops.append(hop)
            current = self.schema.require(hop.reference_to or "")
        final = current.field(ref.path[-1])
        if final is None:
            raise self.fail(
                ref.pos,
                f"No such column '{ref.path[-1]}' on entity '{current.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the appropriate "
                "names.",
            )
        return Path(tuple(hops), final)

    def condition(self, obj: SObjectDef, c: soql.Condition) -> Condition:
        if isinstance(c, soql.BoolOp):
            return BoolOp(c.op, [self.condition(obj, i) for i in c.items])
        if isinstance(c, soql.Not):
            return Not(self.condition(obj, c.item))
        path = self.path(obj, c.field)
        f = path.field
        if f.type == "textarea":
            raise self.fail(c.field.pos, f"field '{f.name}' can not be filtered in query call")
        if c.op == "LIKE" and f.type not in STRING_TYPES - {"id", "reference"}:
            raise self.fail(c.field.pos, f"invalid operator on {f.type} field: LIKE",
                            "INVALID_QUERY_FILTER_OPERATOR")
        if c.op in ("<", "<=", ">", ">=") and f.type in ("boolean", "id", "reference"):
            raise self.fail(c.field.pos, f"invalid operator on {f.type} field: {c.op}",
                            "INVALID_QUERY_FILTER_OPERATOR")
        values = [self.literal(f, lit) for lit in c.values]
        like = None
        if c.op == "LIKE":
            like = re.compile(c.values[0].like or "", re.IGNORECASE | re.DOTALL)
        return Comparison(path, c.op, values, like)

    def literal(self, f: FieldDef, lit: soql.Literal) -> Any:
        if lit.kind == "null":
            return None
        if f.type in NUMBER_TYPES:
            expected = "number"
        elif f.type in STRING_TYPES:
            expected = "string"
        else:
            expected = _KIND_FOR_TYPE[f.type]
        if lit.kind != expected:
            quoting = "be" if expected == "string" else "not be"
            word = _TYPE_WORD.get(expected, "string")
            raise self.fail(
                lit.pos,
                f"value of filter criterion for field '{f.name}' must be of type {word} and "
                f"should {quoting} enclosed in quotes",
            )
        if f.type in ("id", "reference"):
            record_id = normalize(lit.value)
            if record_id is None:
                raise self.fail(lit.pos, f"invalid ID field: {lit.value}",
                                "INVALID_QUERY_FILTER_OPERATOR")
            return record_id
        return lit.value


def bind(schema: Schema, text: str) -> Bound:
    return Binder(schema, text).bind(soql.parse(text))
