"""Coercing body values to their stored form; a value of the wrong shape is INVALID_CONTENT.

Dates are `date`, amounts and quantities `Decimal` (JSON numbers only: a quoted amount, a boolean
or a non-finite number is refused rather than guessed at), references `Ref` until the record
layer resolves them against the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.netsuite.errors import invalid_content, user_error
from sandbox.netsuite.wire import plain

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[1-9]\d{0,17}$")


@dataclass(frozen=True)
class Ref:
    """A reference as sent: `{"id": "12"}` or `{"externalId": "acme"}`."""

    id: str | None = None
    external_id: str | None = None

    def shown(self) -> str:
        return self.id if self.id is not None else f"eid:{self.external_id}"


def _type_error(path: str, expected: str, value: Any) -> Exception:
    shown = "null" if value is None else type(value).__name__
    return invalid_content(
        f"Invalid content in the request body: the value of {path} must be {expected}, "
        f"not {shown}.",
        path,
    )


def text(value: Any, path: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise _type_error(path, "a string", value)
    if len(value) > max_length:
        raise user_error(
            f"The field {path} contained more than the maximum number ( {max_length} ) of "
            "characters allowed.",
            path,
        )
    return value


def email(value: Any, path: str, max_length: int) -> str:
    checked = text(value, path, max_length)
    if checked and not _EMAIL.match(checked):
        raise user_error(f"Invalid email address: {checked}.", path)
    return checked


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _type_error(path, "a boolean", value)
    return value


def day(value: Any, path: str) -> date:
    if not isinstance(value, str):
        raise _type_error(path, 'a date string "YYYY-MM-DD"', value)
    parsed: date | None = None
    if _DATE.match(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise invalid_content(
            f'Invalid content in the request body: invalid date value "{value}" for {path}; '
            'expected "YYYY-MM-DD".',
            path,
        )
    return parsed


def number(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _type_error(path, "a number", value)
    result = Decimal(value)
    if not result.is_finite():
        raise _type_error(path, "a finite number", value)
    return result


def places(value: Decimal, allowed: int, path: str) -> Decimal:
    """`value`, refused if it carries more significant decimals than `allowed`."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > allowed:
        raise invalid_content(
            f"Invalid content in the request body: {plain(value)} for {path} has more than "
            f"{allowed} decimal places.",
            path,
        )
    return value


def reference(value: Any, path: str) -> Ref:
    if not isinstance(value, dict):
        raise _type_error(path, 'a reference object like {"id": "12"}', value)
    unknown = set(value) - {"id", "externalId", "refName", "links"}
    if unknown:
        name = sorted(unknown)[0]
        raise invalid_content(
            f"Invalid content in the request body: unknown property {name} in reference {path}.",
            f"{path}.{name}",
        )
    has_id, has_eid = value.get("id") is not None, value.get("externalId") is not None
    if has_id == has_eid:
        raise invalid_content(
            f"Invalid content in the request body: reference {path} needs exactly one of id "
            "and externalId.",
            path,
        )
    if has_eid:
        return Ref(external_id=text(value["externalId"], f"{path}.externalId", 255))
    raw = value["id"]
    ref_id = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(ref_id, str) or not _DIGITS.match(ref_id):
        raise invalid_content(
            f"Error while accessing resource: You have entered an Invalid Field Value {raw} for "
            f"the following field: {path.rsplit('.', 1)[-1]}",
            path,
        )
    return Ref(id=ref_id)
