"""SOQL subset: a tokenizer and a recursive-descent parser producing a small AST.

Keywords, object and field names are case-insensitive. String literals use single quotes with
the escapes Salesforce documents (`\\n \\r \\t \\b \\f \\" \\' \\\\ \\uXXXX`, plus `\\%` and
`\\_` which only mean a literal `%` / `_` inside LIKE). Mixing AND and OR at one level without
parentheses is rejected, as Salesforce does. Anything outside the subset is MALFORMED_QUERY.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.values import parse_date, parse_datetime

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:])")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_CLAUSE_END = {"WHERE", "ORDER", "LIMIT", "OFFSET"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    text: str
    pos: int
    value: Any = None
    like: str | None = None  # regex for LIKE, when a string


@dataclass
class FieldRef:
    path: list[str]
    pos: int


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime
    value: Any
    pos: int
    like: str | None = None


@dataclass
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= LIKE IN NOT IN
    values: list[Literal]


@dataclass
class BoolOp:
    op: str  # AND / OR
    items: list[Condition]


@dataclass
class Not:
    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass
class OrderItem:
    field: FieldRef
    desc: bool = False
    nulls_first: bool | None = None


@dataclass
class Query:
    sobject: str
    sobject_pos: int
    fields: list[FieldRef | Query] = field(default_factory=list)
    count: bool = False
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def malformed(text: str, pos: int, message: str, code: str = "MALFORMED_QUERY") -> SalesforceError:
    """An error whose message points at `pos` the way Salesforce's query errors do."""
    before = text[:pos]
    row = before.count("\n") + 1
    col = pos - (before.rfind("\n") + 1)
    line = text.splitlines()[row - 1] if text.strip() else ""
    return SalesforceError(
        code, f"\n{line}\n{' ' * col}^\nERROR at Row:{row}:Column:{col + 1}\n{message}"
    )


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            tok, i = _string(text, i)
            tokens.append(tok)
        elif m := _DATETIME.match(text, i):
            value = parse_datetime(m.group())
            if value is None:
                raise malformed(text, i, f"line 1:{i} no viable alternative at '{m.group()}'")
            tokens.append(Token("datetime", m.group(), i, value))
            i = m.end()
        elif m := _DATE.match(text, i):
            value_d = parse_date(m.group())
            if value_d is None:
                raise malformed(text, i, f"line 1:{i} no viable alternative at '{m.group()}'")
            tokens.append(Token("date", m.group(), i, value_d))
            i = m.end()
        elif (m := _NUMBER.match(text, i)) and (ch.isdigit() or ch in "+-."):
            tokens.append(Token("number", m.group(), i, Decimal(m.group())))
            i = m.end()
        elif m := _IDENT.match(text, i):
            tokens.append(Token("ident", m.group(), i))
            i = m.end()
        elif op := next((o for o in _OPS if text.startswith(o, i)), None):
            tokens.append(Token("op", op, i))
            i += len(op)
        elif ch in "(),.":
            tokens.append(Token("punct", ch, i))
            i += 1
        else:
            raise malformed(text, i, f"unexpected token: '{ch}'")
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def _string(text: str, start: int) -> tuple[Token, int]:
    out: list[str] = []
    like: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            value = "".join(out)
            return Token("string", text[start : i + 1], start, value, "".join(like)), i + 1
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt.lower() in _ESCAPES:
                decoded = _ESCAPES[nxt.lower()]
                out.append(decoded)
                like.append(re.escape(decoded))
                i += 2
                continue
            if nxt in ("%", "_"):
                out.append("\\" + nxt)  # outside LIKE the backslash stays, as on Salesforce
                like.append(re.escape(nxt))
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                decoded = chr(int(text[i + 2 : i + 6], 16))
                out.append(decoded)
                like.append(re.escape(decoded))
                i += 6
                continue
            raise malformed(
                text, i, f"Invalid string literal '{text[start:i + 2]}'. Illegal character "
                f"sequence '\\{nxt}' in string literal.",
            )
        out.append(ch)
        like.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    raise malformed(text, start, f"Invalid string literal '{text[start:]}'. Unterminated.")


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -----------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def kw(self, word: str, offset: int = 0) -> bool:
        t = self.tokens[min(self.i + offset, len(self.tokens) - 1)]
        return t.kind == "ident" and t.text.upper() == word

    def punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def advance(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def error(self, t: Token | None = None) -> SalesforceError:
        t = t or self.tok
        shown = t.text if t.kind == "eof" else f"'{t.text}'"
        return malformed(self.text, t.pos, f"unexpected token: {shown}")

    def expect_kw(self, word: str) -> Token:
        if not self.kw(word):
            raise self.error()
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if not self.punct(ch):
            raise self.error()
        return self.advance()

    # -- grammar -----------------------------------------------------------------------------

    def parse(self) -> Query:
        query = self.query(nested=False)
        if self.tok.kind != "eof":
            raise self.error()
        return query

    def query(self, *, nested: bool) -> Query:
        self.expect_kw("SELECT")
        items: list[FieldRef | Query] = []
        count = False
        while True:
            if self.punct("(") and not nested:
                self.advance()
                items.append(self.query(nested=True))
                self.expect_punct(")")
            elif self.kw("COUNT") and self.tokens[self.i + 1].text == "(" and not nested:
                self.advance()
                self.advance()
                self.expect_punct(")")
                count = True
            else:
                items.append(self.field_ref())
            if not self.punct(","):
                break
            self.advance()
        if count and items:
            raise malformed(self.text, self.tok.pos, "COUNT() must be the only element in the "
                            "SELECT list.")
        self.expect_kw("FROM")
        name = self.advance()
        if name.kind != "ident" or name.text.upper() in _CLAUSE_END:
            raise self.error(name)
        query = Query(name.text, name.pos, items, count)
        if self.kw("WHERE"):
            self.advance()
            query.where = self.condition()
        if self.kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            query.order_by = self.order_list()
        if self.kw("LIMIT"):
            self.advance()
            query.limit = self.integer()
        if self.kw("OFFSET"):
            self.advance()
            query.offset = self.integer()
        return query

    def integer(self) -> int:
        t = self.advance()
        if t.kind != "number" or not t.text.isdigit():
            raise self.error(t)
        return int(t.text)

    def field_ref(self) -> FieldRef:
        t = self.advance()
        if t.kind != "ident" or t.text.upper() in {"FROM", "SELECT", *_CLAUSE_END}:
            raise self.error(t)
        path = [t.text]
        while self.punct("."):
            self.advance()
            nxt = self.advance()
            if nxt.kind != "ident":
                raise self.error(nxt)
            path.append(nxt.text)
        return FieldRef(path, t.pos)

    def order_list(self) -> list[OrderItem]:
        items = []
        while True:
            item = OrderItem(self.field_ref())
            if self.kw("ASC") or self.kw("DESC"):
                item.desc = self.advance().text.upper() == "DESC"
            if self.kw("NULLS"):
                self.advance()
                if not (self.kw("FIRST") or self.kw("LAST")):
                    raise self.error()
                item.nulls_first = self.advance().text.upper() == "FIRST"
            items.append(item)
            if not self.punct(","):
                return items
            self.advance()

    def condition(self) -> Condition:
        first = self.term()
        if not (self.kw("AND") or self.kw("OR")):
            return first
        op = self.tok.text.upper()
        items = [first]
        while self.kw("AND") or self.kw("OR"):
            if self.tok.text.upper() != op:
                raise self.error()  # Salesforce demands parentheses when AND and OR mix
            self.advance()
            items.append(self.term())
        return BoolOp(op, items)

    def term(self) -> Condition:
        if self.kw("NOT"):
            self.advance()
            return Not(self.term())
        if self.punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        ref = self.field_ref()
        if self.tok.kind == "op":
            op = self.advance().text
            return Comparison(ref, "!=" if op == "<>" else op, [self.literal()])
        if self.kw("LIKE"):
            self.advance()
            value = self.literal()
            if value.kind != "string":
                raise malformed(self.text, value.pos, "LIKE requires a string literal")
            return Comparison(ref, "LIKE", [value])
        negate = self.kw("NOT") and self.kw("IN", 1)
        if negate:
            self.advance()
        if self.kw("IN"):
            self.advance()
            self.expect_punct("(")
            if self.kw("SELECT"):
                raise malformed(self.text, self.tok.pos,
                                "semi-join subqueries are outside this emulator's SOQL subset")
            values = [self.literal()]
            while self.punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Comparison(ref, "NOT IN" if negate else "IN", values)
        raise self.error()

    def literal(self) -> Literal:
        t = self.advance()
        if t.kind in ("string", "number", "date", "datetime"):
            return Literal(t.kind, t.value, t.pos, t.like)
        if t.kind == "ident" and t.text.upper() in ("TRUE", "FALSE"):
            return Literal("boolean", t.text.upper() == "TRUE", t.pos)
        if t.kind == "ident" and t.text.upper() == "NULL":
            return Literal("null", None, t.pos)
        raise self.error(t)


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise SalesforceError("MALFORMED_QUERY", "A query string has to be specified")
    return Parser(text).parse()

