"""JSON text with `Decimal`s written as exact numbers, for the emulators whose APIs carry money
as JSON numbers (Salesforce, NetSuite). The stdlib encoder can only write them through float."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def dumps(
    obj: Any,
    *,
    number: Callable[[Decimal], str] = lambda value: format(value, "f"),
    text: Callable[[date], str] = date.isoformat,
) -> str:
    """`number` writes a Decimal, `text` turns a date or datetime into its string."""
    parts: list[str] = []
    _write(obj, parts, number, text)
    return "".join(parts)


def _write(obj: Any, out: list[str], number: Callable[[Decimal], str],
           text: Callable[[date], str]) -> None:
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, Decimal):
        out.append(number(obj))
    elif isinstance(obj, int | float):
        out.append(repr(obj))
    elif isinstance(obj, date):
        out.append(_encode_str(text(obj)))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, val) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _write(val, out, number, text)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, val in enumerate(obj):
            if i:
                out.append(",")
            _write(val, out, number, text)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__}")
