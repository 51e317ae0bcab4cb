"""JSON in and out: numbers become `Decimal` coming in and are written exactly going out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandbox.exact_json import dumps as exact_dumps
from sandbox.netsuite.errors import invalid_content


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str) -> Any:
    """The request body; malformed JSON is INVALID_CONTENT, as NetSuite reports it."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        raise invalid_content(f"Invalid content in the request body: {exc}.") from None


def plain(value: Decimal) -> str:
    """`Decimal` as NetSuite prints numbers: no exponent, no trailing zeros, no negative zero."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def dumps(obj: Any) -> str:
    """JSON text in which Decimals are exact numbers as NetSuite prints them; dates ISO."""
    return exact_dumps(obj, number=plain)
