"""The SuiteQL subset: a tokenizer and a recursive-descent parser producing a small AST.

    query     := SELECT ( '*' | column {',' column} ) FROM table
                 [WHERE condition] [ORDER BY column [ASC|DESC] {',' column [ASC|DESC]}]
    condition := conjunct {OR conjunct}
    conjunct  := negation {AND negation}
    negation  := NOT negation | '(' condition ')' | predicate
    predicate := operand ( op operand | [NOT] IN '(' literal {',' literal} ')'
                 | [NOT] LIKE string | IS [NOT] NULL )
    operand   := column | literal          literal := string | ['-'] number | NULL

Keywords and identifiers are case-insensitive; strings are single-quoted with `''` for a quote.
Anything else (joins, functions, aliases, grouping, comments, several statements) is refused
with INVALID_PARAMETER naming what was found, never skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sandbox.netsuite.errors import NetSuiteError, invalid_parameter

_NUMBER = re.compile(r"(\d+(\.\d*)?|\.\d+)(?![A-Za-z0-9_.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = ("<=", ">=", "!=", "<>", "=", "<", ">", "-")
KEYWORDS = frozenset({
    "SELECT", "FROM", "WHERE", "ORDER", "BY", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE",
    "ASC", "DESC",
})
# Words that start syntax outside the subset, and what the error says about them.
_JOINS = "joins are not supported"
_ROW_LIMITS = "row limiting in the query is not supported; use the limit and offset parameters"
_NOT_SELECT = "only SELECT statements are supported"
UNSUPPORTED = {
    **dict.fromkeys(("JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "ON"), _JOINS),
    **dict.fromkeys(("GROUP", "HAVING"), "GROUP BY and HAVING are not supported"),
    **dict.fromkeys(("UNION", "INTERSECT", "MINUS", "EXCEPT"), "set operations are not supported"),
    **dict.fromkeys(("FETCH", "OFFSET", "LIMIT", "TOP", "ROWNUM"), _ROW_LIMITS),
    **dict.fromkeys(("WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "DROP"), _NOT_SELECT),
    "DISTINCT": "DISTINCT is not supported",
    "AS": "aliases are not supported",
    "BETWEEN": "BETWEEN is not supported",
    "CASE": "CASE expressions are not supported",
    "EXISTS": "subqueries are not supported",
    "ESCAPE": "LIKE ... ESCAPE is not supported",
    "NULLS": "NULLS FIRST / NULLS LAST is not supported",
}


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, number, op, punct, eof, or bad (value: why it is refused)
    text: str
    pos: int
    value: str | Decimal | None = None

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Column:
    name: str  # lower-cased
    pos: int


@dataclass(frozen=True)
class Literal:
    value: str | Decimal | None  # None is NULL
    pos: int


Operand = Column | Literal


@dataclass(frozen=True)
class Compare:
    op: str  # = != < <= > >= (<> is read as !=)
    left: Operand
    right: Operand


@dataclass(frozen=True)
class InList:
    column: Column
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    column: Column
    pattern: str
    negated: bool


@dataclass(frozen=True)
class IsNull:
    column: Column
    negated: bool


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | InList | Like | IsNull | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    column: Column
    descending: bool


@dataclass(frozen=True)
class Query:
    columns: tuple[Column, ...] | None  # None is SELECT *
    table: str
    table_pos: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]


# Where a stray identifier can only be an alias the subset doesn't have.
_ALIAS_SPOTS = ("FROM", "end of query")


def query_error(message: str, pos: int | None = None) -> NetSuiteError:
    where = "" if pos is None else f" (at character {pos + 1})"
    return invalid_parameter(f"Invalid search query: {message}{where}.")


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
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            m = _NUMBER.match(text, i)
            if m is None:
                raise query_error(f"malformed number starting '{text[i:i + 12]}'", i)
            tokens.append(Token("number", m.group(), i, Decimal(m.group())))
            i = m.end()
        elif m := _IDENT.match(text, i):
            tokens.append(Token("word", m.group(), i))
            i = m.end()
        elif text.startswith(("--", "/*"), i):
            tokens.append(Token("bad", text[i : i + 2], i, "comments are not supported"))
            i += 2
        elif op := next((o for o in _OPS if text.startswith(o, i)), None):
            tokens.append(Token("op", "!=" if op == "<>" else op, i))
            i += len(op)
        elif ch in "(),*":
            tokens.append(Token("punct", ch, i))
            i += 1
        else:
            # Reported only if the parser gets this far, so the first error in the text wins.
            tokens.append(Token("bad", ch, i, _character_message(ch)))
            i += 1
    tokens.append(Token("eof", "end of query", len(text)))
    return tokens


def _character_message(ch: str) -> str:
    return {
        ";": "only one statement is allowed; ';' is not supported",
        '"': "quoted identifiers are not supported",
        ".": "qualified names (table.column) are not supported",
        "|": "the || operator is not supported",
        "+": "arithmetic is not supported",
        "/": "arithmetic is not supported",
        "?": "bind parameters are not supported",
        ":": "bind parameters are not supported",
    }.get(ch, f"unexpected character '{ch}'")


def _string(text: str, start: int) -> tuple[Token, int]:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        if text[i] == "'":
            if text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return Token("string", text[start : i + 1], start, "".join(out)), i + 1
        out.append(text[i])
        i += 1
    raise query_error("unterminated string literal", start)


def parse(text: str) -> Query:
    if not text.strip():
        raise query_error("the query is empty")
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def at_kw(self, word: str) -> bool:
        return self.tok.upper == word

    def at_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def unexpected(self, expected: str) -> NetSuiteError:
        tok = self.tok
        if tok.kind == "bad":
            return query_error(str(tok.value), tok.pos)
        if tok.upper in UNSUPPORTED:
            return query_error(UNSUPPORTED[tok.upper], tok.pos)
        if tok.kind == "word" and tok.upper not in KEYWORDS and expected in _ALIAS_SPOTS:
            return query_error("aliases are not supported", tok.pos)
        shown = tok.text if tok.kind == "eof" else f"'{tok.text}'"
        return query_error(f"expected {expected} but found {shown}", tok.pos)

    def expect_kw(self, word: str) -> Token:
        if not self.at_kw(word):
            raise self.unexpected(word)
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if not self.at_punct(ch):
            raise self.unexpected(f"'{ch}'")
        return self.advance()

    def identifier(self, what: str) -> Token:
        tok = self.tok
        if tok.kind != "word" or tok.upper in KEYWORDS or tok.upper in UNSUPPORTED:
            raise self.unexpected(what)
        if self.peek().kind == "punct" and self.peek().text == "(":
            raise query_error(f"functions are not supported: {tok.text}(", tok.pos)
        return self.advance()

    # -- grammar -------------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect_kw("SELECT")
        columns: tuple[Column, ...] | None
        if self.at_punct("*"):
            self.advance()
            columns = None
        else:
            items = [self.column()]
            while self.at_punct(","):
                self.advance()
                items.append(self.column())
            columns = tuple(items)
        self.expect_kw("FROM")
        table = self.identifier("a table name")
        if self.at_punct(","):
            raise query_error(_JOINS, self.tok.pos)
        where = None
        if self.at_kw("WHERE"):
            self.advance()
            where = self.condition()
        order: list[OrderItem] = []
        if self.at_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                order.append(self.order_item())
        if self.tok.kind != "eof":
            raise self.unexpected("end of query")
        return Query(columns, table.text.lower(), table.pos, where, tuple(order))

    def column(self) -> Column:
        tok = self.identifier("a column name")
        return Column(tok.text.lower(), tok.pos)

    def order_item(self) -> OrderItem:
        column = self.column()
        descending = False
        if self.at_kw("ASC") or self.at_kw("DESC"):
            descending = self.advance().upper == "DESC"
        return OrderItem(column, descending)

    def condition(self) -> Condition:
        items = [self.conjunct()]
        while self.at_kw("OR"):
            self.advance()
            items.append(self.conjunct())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunct(self) -> Condition:
        items = [self.negation()]
        while self.at_kw("AND"):
            self.advance()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Condition:
        if self.at_kw("NOT"):
            self.advance()
            return Not(self.negation())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        left = self.operand()
        if self.tok.kind == "op" and self.tok.text != "-":
            op = self.advance().text
            return Compare(op, left, self.operand())
        negated = False
        if self.at_kw("NOT") and self.peek().upper in ("IN", "LIKE"):
            self.advance()
            negated = True
        if self.at_kw("IN"):
            column = self.subject(left, "IN")
            self.advance()
            self.expect_punct("(")
            values = [self.literal()]
            while self.at_punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return InList(column, tuple(values), negated)
        if self.at_kw("LIKE"):
            column = self.subject(left, "LIKE")
            self.advance()
            pattern = self.literal()
            if not isinstance(pattern.value, str):
                raise query_error("LIKE needs a string pattern", pattern.pos)
            return Like(column, pattern.value, negated)
        if self.at_kw("IS"):
            column = self.subject(left, "IS NULL")
            self.advance()
            is_not = False
            if self.at_kw("NOT"):
                self.advance()
                is_not = True
            self.expect_kw("NULL")
            return IsNull(column, is_not)
        raise self.unexpected("a comparison operator, IN, LIKE or IS")

    def subject(self, left: Operand, what: str) -> Column:
        if not isinstance(left, Column):
            raise query_error(f"the left side of {what} must be a column", left.pos)
        return left

    def operand(self) -> Operand:
        tok = self.tok
        if tok.kind in ("string", "number") or (tok.kind == "op" and tok.text == "-") or (
            tok.upper == "NULL"
        ):
            return self.literal()
        if tok.kind == "punct" and tok.text == "(":
            raise query_error("subqueries and parenthesised expressions are not supported",
                              tok.pos)
        return self.column()

    def literal(self) -> Literal:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return Literal(tok.value, tok.pos)
        if tok.upper == "NULL":
            self.advance()
            return Literal(None, tok.pos)
        sign = 1
        if tok.kind == "op" and tok.text == "-":
            self.advance()
            sign = -1
        number = self.tok
        if number.kind != "number" or not isinstance(number.value, Decimal):
            raise self.unexpected("a string or number literal")
        self.advance()
        return Literal(number.value * sign, tok.pos)
