"""JSON in and out: numbers become `Decimal` coming in and are written exactly going out."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.netsuite.errors import invalid_content

_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


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
    """JSON text in which Decimals are exact numbers (the stdlib encoder can't emit them)."""
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts)


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, Decimal):
        out.append(plain(obj))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, date):
        out.append(_encode_str(obj.isoformat()))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, val) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _write(val, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, val in enumerate(obj):
            if i:
                out.append(",")
            _write(val, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__}")
