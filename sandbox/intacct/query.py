"""The query service, `POST /ia/api/v1/services/core/query`, as Sage documents it:
`{"object", "fields", "filters", "filterExpression", "orderBy", "start", "size"}`. Filters are
`{"$eq": {"customer.id": "C-1"}}` with $eq $ne $lt $lte $gt $gte $in $contains $startsWith;
`filterExpression` joins them by number ("1 and (2 or 3)"), all and-ed when absent. Results carry
the dotted field names asked for; `ia::meta` says totalCount, start, pageSize, next, previous
(`start` is 1-based; `size` at most 4000, 100 by default)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.intacct import ledger, render
from sandbox.intacct import objects as o
from sandbox.intacct.errors import invalid
from sandbox.intacct.store import Store

MAX_SIZE, DEFAULT_SIZE = 4000, 100
_TOKEN = re.compile(r"\s*(\d+|and|or|\(|\))\s*", re.IGNORECASE)


def run(store: Store, body: dict[str, Any], *, entity: str | None = None) -> dict[str, Any]:
    """A query at the top level (`entity` None) sees every record; one in an entity sees that
    entity's and the top level's shared ones (customers, accounts), never another entity's, so
    each entity's general ledger reads apart."""
    obj = body.get("object")
    if obj not in (*o.OBJECTS, o.ADJUSTMENT_LINE, o.JOURNAL_LINE, o.INVOICE_LINE):
        raise invalid(f"Unknown object {obj!r} in query", field="object")
    fields = body.get("fields") or ["key", "id", "href"]
    if not isinstance(fields, list):
        raise invalid("fields must be a list of field names", field="fields")
    filters = body.get("filters") or []
    start, size = int(body.get("start") or 1), int(body.get("size") or DEFAULT_SIZE)
    if start < 1 or not 1 <= size <= MAX_SIZE:
        raise invalid(f"start must be 1 or more and size 1 to {MAX_SIZE}", field="size")
    tests = [_test(f) for f in filters]
    with store.lock:
        rows = (render.adjustment_lines(store) if obj == o.ADJUSTMENT_LINE else
                ledger.journal_lines(store) if obj == o.JOURNAL_LINE else
                render.invoice_lines(store) if obj == o.INVOICE_LINE else
                [render.record(store, obj, row) for row in store.rows[obj].values()
                 if body.get("filterExpression") or _may_match(row, filters)])
    expression = body.get("filterExpression") or " and ".join(str(n + 1) for n in range(len(tests)))
    if expression:
        _evaluate(expression, tests, {}, dry=True)
    if entity is not None:
        rows = [r for r in rows if _owner(r) in (None, entity)]
    matched = [r for r in rows if not tests or _evaluate(expression, tests, r)]
    for order in reversed(body.get("orderBy") or [{"key": "asc"}]):
        ((name, direction),) = order.items()
        matched.sort(key=lambda r, n=name: _sortable(render.field(r, n)),
                     reverse=direction == "desc")
    page = matched[start - 1:start - 1 + size]
    following = start + size if start - 1 + size < len(matched) else None
    previous = max(1, start - size) if start > 1 else None
    return {"ia::result": [{f: render.field(r, f) for f in fields} for r in page],
            "ia::meta": {"totalCount": len(matched), "start": start, "pageSize": size,
                         "next": following, "previous": previous}}


def _owner(row: dict[str, Any]) -> str | None:
    owner = row.get("entity")
    return owner.get("id") if isinstance(owner, dict) else None


def _may_match(row: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    """False only when an and-ed `$eq` on a plain top-level field (a reference number, an id)
    already fails on the stored row, whose plain values render unchanged: so a lookup by
    reference renders one record, not every record of the object, as Sage's indexed reads
    don't slow down with the company's size. The full filters still run on what is rendered."""
    for spec in filters:
        ((op, arg),) = spec.items()
        if op != "$eq":
            continue
        ((name, want),) = arg.items()
        value = row.get(name)
        if "." not in name and isinstance(value, str) and not _same(value, want):
            return False
    return True


def _test(spec: dict[str, Any]) -> Any:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise invalid("Each filter is one operator with one field", field="filters")
    ((op, arg),) = spec.items()
    ((name, want),) = arg.items()
    compare = {
        "$eq": lambda v: _same(v, want), "$ne": lambda v: not _same(v, want),
        "$lt": lambda v: v is not None and _num(v) < _num(want),
        "$lte": lambda v: v is not None and _num(v) <= _num(want),
        "$gt": lambda v: v is not None and _num(v) > _num(want),
        "$gte": lambda v: v is not None and _num(v) >= _num(want),
        "$in": lambda v: any(_same(v, w) for w in want),
        "$contains": lambda v: v is not None and str(want) in str(v),
        "$startsWith": lambda v: v is not None and str(v).startswith(str(want)),
    }.get(op)
    if compare is None:
        raise invalid(f"Unknown filter operator {op}", field="filters")
    return lambda row: compare(render.field(row, name))


def _evaluate(expression: str, tests: list[Any], row: dict[str, Any], *, dry: bool = False
              ) -> bool:
    """The filters joined as the expression says; `dry` only checks the expression."""
    tokens = [t.lower() for t in _TOKEN.findall(expression)]
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", expression.lower()):
        raise invalid(f"filterExpression {expression!r} is not valid", field="filterExpression")
    if dry:
        tests = [lambda _row: True] * len(tests)
    python = " ".join(f"t[{int(t) - 1}](r)" if t.isdigit() else t for t in tokens)
    try:
        return bool(eval(python, {"__builtins__": {}}, {"t": tests, "r": row}))
    except (IndexError, SyntaxError):
        raise invalid(f"filterExpression {expression!r} is not valid",
                      field="filterExpression") from None


def _same(value: Any, want: Any) -> bool:
    if value is None or want is None:
        return value is want
    try:
        return _num(value) == _num(want)
    except (InvalidOperation, ValueError):
        return str(value) == str(want)


def _num(value: Any) -> Decimal:
    return Decimal(str(value))


def _sortable(value: Any) -> tuple[int, Any]:
    try:
        return (0, _num(value))
    except (InvalidOperation, ValueError):
        return (1, str(value or ""))
