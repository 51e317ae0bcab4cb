"""JSON with exact decimal numbers, for APIs that take amounts as JSON numbers (NetSuite).

`json.dumps` can't write a `Decimal` as a number without going through float, so this writer
renders decimals from their own digits. Reading back uses `parse_float=Decimal`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a Decimal")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
