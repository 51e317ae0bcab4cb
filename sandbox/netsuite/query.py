"""Running a parsed SuiteQL query over the store's tables, with SQL's three-valued logic.

Column types decide how literals are read: a string compared with a numeric column must be a
number and with a date column a `YYYY-MM-DD` date, or the query is refused; comparing with NULL
(instead of IS NULL) is refused too, since it could only ever match nothing. As in Oracle, NULLs
sort last ascending and first descending. Every value comes back as a string.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.netsuite import cash, oneworld, rules, suiteql
from sandbox.netsuite.schema import (
    CURRENCY,
    CUSTOMER,
    CUSTOMER_PAYMENT,
    INVOICE,
    SERVICE_SALE_ITEM,
    TRANSACTION_TYPES,
)
from sandbox.netsuite.store import Store
from sandbox.netsuite.suiteql import query_error
from sandbox.netsuite.wire import plain

Row = dict[str, Any]
Getter = Callable[[Row], Any]
Predicate = Callable[[Row], bool | None]  # None is SQL's unknown

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
_NUMERIC = ("id", "number")


@dataclass(frozen=True)
class Table:
    columns: dict[str, str]  # name -> id | number | text | date
    rows: Callable[[Store], list[Row]]


def _currency_rows(store: Store) -> list[Row]:
    return [{"id": int(r["id"]), "symbol": r["symbol"], "name": r["name"]}
            for r in store.all(CURRENCY)]


def _customer_rows(store: Store) -> list[Row]:
    return [{"id": int(r["id"]), "entityid": r["companyName"], "companyname": r["companyName"],
             "externalid": r.get("externalId"), "email": r.get("email"),
             "currency": int(r["currency"])}
            for r in store.all(CUSTOMER)]


def _item_rows(store: Store) -> list[Row]:
    return [{"id": int(r["id"]), "itemid": r["itemId"], "displayname": r.get("displayName"),
             "externalid": r.get("externalId"), "itemtype": "Service"}
            for r in store.all(SERVICE_SALE_ITEM)]


def _transaction_rows(store: Store) -> list[Row]:
    rows: list[Row] = []
    for rtype in TRANSACTION_TYPES:
        for r in store.all(rtype):
            is_payment = rtype is CUSTOMER_PAYMENT
            entity = r.get("entity") or r.get("customer")
            rows.append({
                "id": int(r["id"]), "tranid": r["tranId"], "externalid": r.get("externalId"),
                "type": rtype.tran_code,
                "entity": None if entity is None else int(entity),
                "currency": int(r["currency"]), "trandate": r["tranDate"],
                "duedate": r.get("dueDate") if rtype is INVOICE else None,
                "foreigntotal": r["payment" if is_payment else "total"],
                "foreignamountremaining": rules.amount_remaining(store, rtype, r),
                "status": rules.status(store, rtype, r)[0], "memo": r.get("memo"),
            })
    rows.sort(key=lambda row: row["id"])
    return rows


def _transaction_line_rows(store: Store) -> list[Row]:
    """Each transaction's main line (`mainline = 'T'`, no item), which carries its subsidiary as
    SuiteQL keeps it on the line table, then its item lines, signed as NetSuite posts them to
    income: a credit (negative) on an invoice or sales order, a debit (positive) on a credit
    memo."""
    rows: list[Row] = []
    for rtype in TRANSACTION_TYPES:
        sign = 1 if rtype.tran_code == "CustCred" else -1
        for r in store.all(rtype):
            subsidiary = oneworld.subsidiary_of(store, r)
            rows.append({"transaction": int(r["id"]), "linesequencenumber": 0, "item": None,
                         "memo": r.get("memo"), "foreignamount": None, "mainline": "T",
                         "subsidiary": subsidiary})
            for n, line in enumerate(r.get("item") or [], start=1):
                rows.append({"transaction": int(r["id"]), "linesequencenumber": n,
                             "item": int(line["item"]), "memo": line.get("description"),
                             "foreignamount": sign * line["amount"], "mainline": "F",
                             "subsidiary": subsidiary})
    return rows


TABLES: dict[str, Table] = {
    "currency": Table({"id": "id", "symbol": "text", "name": "text"}, _currency_rows),
    "customer": Table(
        {"id": "id", "entityid": "text", "companyname": "text", "externalid": "text",
         "email": "text", "currency": "id"},
        _customer_rows,
    ),
    "item": Table(
        {"id": "id", "itemid": "text", "displayname": "text", "externalid": "text",
         "itemtype": "text"},
        _item_rows,
    ),
    "transaction": Table(
        {"id": "id", "tranid": "text", "externalid": "text", "type": "text", "entity": "id",
         "currency": "id", "trandate": "date", "duedate": "date",
         "foreigntotal": "number",
         "foreignamountremaining": "number", "status": "text", "memo": "text"},
        _transaction_rows,
    ),
    "account": Table({"id": "id", "acctnumber": "text", "fullname": "text", "accttype": "text"},
                     cash.account_rows),
    "transactionaccountingline": Table(
        {"transaction": "id", "account": "id", "debit": "number", "credit": "number",
         "amount": "number", "posting": "text"},
        cash.accounting_line_rows,
    ),
    "transactionline": Table(
        {"transaction": "id", "linesequencenumber": "number", "item": "id", "memo": "text",
         "foreignamount": "number", "mainline": "text", "subsidiary": "id"},
        _transaction_line_rows,
    ),
}


def text_of(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def run(store: Store, text: str) -> list[dict[str, Any]]:
    """Every result row of the query as SuiteQL items; call with `store.lock` held."""
    parsed = suiteql.parse(text)
    table = TABLES.get(parsed.table)
    if table is None:
        raise query_error(
            f"unknown table '{parsed.table}'; the tables are {', '.join(sorted(TABLES))}",
            parsed.table_pos,
        )
    binder = _Binder(parsed.table, table)
    names = ([binder.column(c)[0] for c in parsed.columns] if parsed.columns is not None
             else list(table.columns))
    keep = binder.condition(parsed.where) if parsed.where is not None else None
    order = [(binder.column(item.column)[0], item.descending) for item in parsed.order_by]
    rows = [row for row in table.rows(store) if keep is None or keep(row) is True]
    for name, descending in reversed(order):
        # NULL counts as the largest value: last ascending, first descending.
        rows.sort(key=lambda row, n=name: (row[n] is None, 0 if row[n] is None else row[n]),
                  reverse=descending)
    return [
        {"links": [], **{n: text_of(row[n]) for n in names if row[n] is not None}}
        for row in rows
    ]


class _Binder:
    """Checks names and types against the table and compiles conditions to predicates."""

    def __init__(self, name: str, table: Table) -> None:
        self.name = name
        self.table = table

    def column(self, column: suiteql.Column) -> tuple[str, str]:
        kind = self.table.columns.get(column.name)
        if kind is None:
            raise query_error(
                f"unknown column '{column.name}' in table {self.name}; its columns are "
                f"{', '.join(self.table.columns)}",
                column.pos,
            )
        return column.name, kind

    def condition(self, node: suiteql.Condition) -> Predicate:
        if isinstance(node, suiteql.And):
            parts = [self.condition(item) for item in node.items]
            return lambda row: _all(p(row) for p in parts)
        if isinstance(node, suiteql.Or):
            parts = [self.condition(item) for item in node.items]
            return lambda row: _any(p(row) for p in parts)
        if isinstance(node, suiteql.Not):
            inner = self.condition(node.item)
            return lambda row: _negate(inner(row))
        if isinstance(node, suiteql.IsNull):
            name, _ = self.column(node.column)
            return lambda row: (row[name] is not None) if node.negated else (row[name] is None)
        if isinstance(node, suiteql.Like):
            return self.like(node)
        if isinstance(node, suiteql.InList):
            return self.in_list(node)
        return self.compare(node)

    def compare(self, node: suiteql.Compare) -> Predicate:
        for side in (node.left, node.right):
            if isinstance(side, suiteql.Literal) and side.value is None:
                raise query_error(
                    "a comparison with NULL is never true; use IS NULL or IS NOT NULL", side.pos
                )
        left_kind = self.kind_of(node.left)
        right_kind = self.kind_of(node.right)
        kind = left_kind or right_kind or _literal_kind(node.left)
        if left_kind and right_kind and _family(left_kind) != _family(right_kind):
            raise query_error(
                f"can't compare a {left_kind} column with a {right_kind} column",
                node.right.pos,
            )
        left = self.getter(node.left, kind)
        right = self.getter(node.right, kind)
        test = _COMPARE[node.op]

        def predicate(row: Row) -> bool | None:
            a, b = left(row), right(row)
            return None if a is None or b is None else test(a, b)

        return predicate

    def in_list(self, node: suiteql.InList) -> Predicate:
        name, kind = self.column(node.column)
        wanted = [None if v.value is None else _coerce(v, kind) for v in node.values]
        has_null = None in wanted
        present = {w for w in wanted if w is not None}

        def predicate(row: Row) -> bool | None:
            value = row[name]
            if value is None:
                return None
            found: bool | None = True if value in present else (None if has_null else False)
            return _negate(found) if node.negated else found

        return predicate

    def like(self, node: suiteql.Like) -> Predicate:
        name, _ = self.column(node.column)
        pattern = re.compile(
            "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
                    for ch in node.pattern),
            re.DOTALL,
        )

        def predicate(row: Row) -> bool | None:
            value = row[name]
            if value is None:
                return None
            matched = pattern.fullmatch(text_of(value)) is not None
            return not matched if node.negated else matched

        return predicate

    def kind_of(self, operand: suiteql.Operand) -> str | None:
        return self.column(operand)[1] if isinstance(operand, suiteql.Column) else None

    def getter(self, operand: suiteql.Operand, kind: str) -> Getter:
        if isinstance(operand, suiteql.Column):
            name, _ = self.column(operand)
            return lambda row: row[name]
        value = _coerce(operand, kind)
        return lambda row: value


def _family(kind: str) -> str:
    return "number" if kind in _NUMERIC else kind


def _literal_kind(literal: suiteql.Operand) -> str:
    assert isinstance(literal, suiteql.Literal)
    return "text" if isinstance(literal.value, str) else "number"


def _coerce(literal: suiteql.Literal, kind: str) -> Any:
    """The literal as a value of the column type it is compared with."""
    value = literal.value
    if kind in _NUMERIC:
        if isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise query_error(f"'{value}' is not a valid number", literal.pos)
        return number
    if kind == "date":
        parsed = None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            raise query_error(f"{value!r} is not a date in the form 'YYYY-MM-DD'", literal.pos)
        return parsed
    if not isinstance(value, str):
        raise query_error(
            f"can't compare a text column with the number {value}; quote it as a string",
            literal.pos,
        )
    return value


def _all(results: Any) -> bool | None:
    unknown = False
    for result in results:
        if result is False:
            return False
        unknown = unknown or result is None
    return None if unknown else True


def _any(results: Any) -> bool | None:
    unknown = False
    for result in results:
        if result is True:
            return True
        unknown = unknown or result is None
    return None if unknown else False


def _negate(result: bool | None) -> bool | None:
    return None if result is None else not result
