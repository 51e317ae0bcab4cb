"""List pagination, `created` filters, `expand[]`, and the Search API query subset.

Stripe quirks kept here: lists are newest first and cursor on object ids (`starting_after` /
`ending_before`), `limit` is 1..100; only fields Stripe marks expandable can be expanded (anything
else is a 400); search results are a `search_result` paged by an opaque `next_page` token. Real
search lags writes by up to a minute; here it is immediate, so code must not rely on the lag.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

from sandbox.stripe.objects import PREFIXES
from sandbox.stripe.state import State
from sandbox.stripe.wire import StripeError, invalid, no_such

KIND_BY_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}

EXPANDABLE: dict[str, set[str]] = {
    "customer": {"invoice_settings.default_payment_method"},
    "product": {"default_price"},
    "price": {"product"},
    "subscription": {"customer", "latest_invoice", "default_payment_method"},
    "subscription_item": set(),
    "invoice": {"customer", "subscription", "default_payment_method",
                "parent.subscription_details.subscription"},
    "line_item": set(),
    "invoiceitem": {"customer", "invoice"},
    "payment_intent": {"customer", "latest_charge", "payment_method"},
    "charge": {"customer", "payment_intent", "balance_transaction"},
    "balance_transaction": {"source"},
    "refund": {"charge", "payment_intent", "balance_transaction"},
    "credit_note": {"customer", "invoice", "customer_balance_transaction"},
    "customer_balance_transaction": {"customer", "invoice", "credit_note"},
    "invoice_payment": {"invoice", "payment.payment_intent", "payment.charge"},
    "payment_method": {"customer"},
    "payout": {"balance_transaction", "failure_balance_transaction"},
    "dispute": {"charge", "payment_intent"},
}
_LISTS = ("list", "search_result")


def resolve(st: State, obj_id: str) -> dict[str, Any] | None:
    kind = KIND_BY_PREFIX.get(obj_id.split("_", 1)[0])
    return st.find(kind, obj_id) if kind else None


def expand(st: State, obj: dict[str, Any], paths: list[str] | None) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for path in paths or []:
        parts = path.split(".")
        if len([p for p in parts if p != "data"]) > 4:
            raise invalid(f"You cannot expand more than 4 levels of a property. Property: {path}",
                          param="expand")
        _walk(st, out, parts, out.get("object"), "", path)
    return out


def _walk(st: State, node: dict[str, Any], parts: list[str], kind: str | None, rel: str,
          full: str) -> None:
    key, rest = parts[0], parts[1:]
    if node.get("object") in _LISTS and key == "data" and not rel:
        for item in node["data"]:
            if rest:
                _walk(st, item, rest, item.get("object"), "", full)
        return
    relkey = f"{rel}.{key}" if rel else key
    if kind == "invoice" and relkey == "payments":
        rows = [p for p in st.all("invoice_payment") if p["invoice"] == node["id"]]
        node["payments"] = {"object": "list", "data": copy.deepcopy(rows), "has_more": False,
                            "url": f"/v1/invoice_payments?invoice={node['id']}"}
    elif key not in node:
        raise invalid(f"This property cannot be expanded ({relkey}).", param="expand")
    value = node[key]
    allowed = relkey in EXPANDABLE.get(kind or "", set()) or relkey == "payments"
    if not allowed and not (rest and isinstance(value, dict)):
        raise invalid(f"This property cannot be expanded ({relkey}).", param="expand")
    if isinstance(value, str):
        target = resolve(st, value)
        node[key] = value = copy.deepcopy(target) if target is not None else value
    if rest and isinstance(value, dict):
        if value.get("object") and value.get("object") not in _LISTS:
            _walk(st, value, rest, value["object"], "", full)
        else:
            _walk(st, value, rest, kind, relkey if value.get("object") is None else "", full)


def in_range(value: int | None, bounds: dict[str, int] | None) -> bool:
    if not bounds:
        return True
    if value is None:
        return False
    checks = {"eq": value.__eq__, "gt": value.__gt__, "gte": value.__ge__,
              "lt": value.__lt__, "lte": value.__le__}
    return all(checks[op](bound) for op, bound in bounds.items())


def _limit(params: dict[str, Any]) -> int:
    limit = params.get("limit")
    if limit is None:
        return 10
    if limit < 1 or limit > 100:
        raise invalid(f"This value must be less than or equal to 100 (it currently is '{limit}')."
                      if limit > 100 else "This value must be greater than or equal to 1.",
                      param="limit")
    return limit


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """Cursor pagination over `items` (already filtered, newest first)."""
    limit = _limit(params)
    items = [o for o in items if in_range(o.get("created"), params.get("created"))]
    ids = [o["id"] for o in items]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None:
        if after not in ids:
            raise no_such("object", after, "starting_after")
        window = items[ids.index(after) + 1:]
        page, has_more = window[:limit], len(window) > limit
    elif before is not None:
        if before not in ids:
            raise no_such("object", before, "ending_before")
        window = items[: ids.index(before)]
        page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


_CLAUSE = re.compile(
    r"""\s*(-?)(metadata\[(?:'([^']*)'|"([^"]*)")\]|[a-z_]+)\s*(:|~|>=|<=|>|<)\s*"""
    r"""(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*"""
)


def parse_query(query: str, fields: set[str]) -> tuple[str, list[tuple]]:
    """`email:'a@b.c' AND metadata['deal']:'42'` into (joiner, [(neg, field, key, op, value)])."""
    clauses, joiners, pos = [], set(), 0
    while True:
        m = _CLAUSE.match(query, pos)
        if not m:
            raise StripeError(400, f"We were unable to parse your search query. Try using the "
                              f"format `metadata[\"key\"]:\"value\"` ... (near {query[pos:]!r})",
                              param="query")
        neg, field, mk1, mk2, op, v1, v2, num = m.groups()
        meta_key = mk1 if mk1 is not None else mk2
        name = "metadata" if meta_key is not None else field
        if name not in fields:
            raise invalid(f"Field `{name}` is an unsupported search field for this resource.",
                          param="query")
        value: Any = v1 if v1 is not None else v2 if v2 is not None else int(num)
        clauses.append((neg == "-", name, meta_key, op, value))
        pos = m.end()
        if pos >= len(query):
            break
        j = re.compile(r"(AND|OR)\s+").match(query, pos)
        if not j:
            raise invalid("We were unable to parse your search query.", param="query")
        joiners.add(j.group(1))
        pos = j.end()
    if len(joiners) > 1:
        raise invalid("Search queries cannot mix AND and OR.", param="query")
    return (joiners.pop() if joiners else "AND"), clauses


def _clause_ok(obj: dict[str, Any], clause: tuple) -> bool:
    neg, name, meta_key, op, value = clause
    actual = (obj.get("metadata") or {}).get(meta_key) if name == "metadata" else obj.get(name)
    if op == ":":
        ok = str(actual).lower() == str(value).lower() if actual is not None else False
    elif op == "~":
        ok = actual is not None and str(value).lower() in str(actual).lower()
    else:
        bounds = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
        ok = isinstance(actual, int) and in_range(actual, {bounds: int(value)})
    return ok != neg


def search(items: list[dict[str, Any]], params: dict[str, Any], fields: set[str],
           url: str) -> dict[str, Any]:
    if not params.get("query"):
        raise StripeError(400, "Missing required param: query.", code="parameter_missing",
                          param="query", replayable=False)
    joiner, clauses = parse_query(params["query"], fields)
    combine = all if joiner == "AND" else any
    hits = [o for o in items if combine(_clause_ok(o, c) for c in clauses)]
    limit = _limit(params)
    offset = 0
    if params.get("page"):
        try:
            offset = int(base64.urlsafe_b64decode(params["page"].encode()).decode())
        except ValueError as exc:
            raise invalid("Invalid page token.", param="page") from exc
    page = hits[offset: offset + limit]
    more = offset + limit < len(hits)
    token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return {"object": "search_result", "data": page, "has_more": more, "next_page": token,
            "url": url}
