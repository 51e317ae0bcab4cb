"""Field values: coercing what a client sends, and rendering what Salesforce answers.

Internally numbers are `Decimal` (rounded half-up to the field's scale on save, as Salesforce
does), dates are `date`, datetimes are aware UTC `datetime`. Answers render datetimes as
`2026-01-15T10:00:00.000+0000`, dates as `2026-01-15`, and numbers as exact JSON numbers.
A value that cannot become the field's type is a `JSON_PARSER_ERROR`: Salesforce fails while
deserialising the body, before any save logic runs.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandbox.exact_json import dumps as exact_dumps
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.schema import NUMBER_TYPES, FieldDef

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    m = _DATETIME.match(text)
    if not m:
        return None
    day, hh, mm, ss, frac, tz = m.groups()
    micros = int((frac or ".0")[1:7].ljust(6, "0"))
    offset = "+00:00" if tz in (None, "Z") else tz[:3] + ":" + tz[-2:]
    try:
        parsed = datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss}{offset}")
    except ValueError:
        return None
    return parsed.replace(microsecond=micros).astimezone(UTC)


def format_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _parser_error(kind: str, value: Any) -> SalesforceError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_OTHER"
    return SalesforceError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {token} value {value} or request may be "
        "missing a required field",
    )


def coerce(f: FieldDef, value: Any) -> Any:
    """The stored form of `value` for field `f`, or a JSON_PARSER_ERROR."""
    if value is None:
        return None
    if f.type in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise _parser_error("double", value)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _parser_error("double", value) from None
        if not number.is_finite():
            raise _parser_error("double", value)
        return number
    if f.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parser_error("boolean", value)
    if f.type == "date":
        if isinstance(value, datetime):
            raise _parser_error("date", value)
        if isinstance(value, date):
            return value
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _parser_error("date", value)
        return parsed
    if f.type == "datetime":
        if isinstance(value, datetime):
            return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
        parsed_dt = parse_datetime(value) if isinstance(value, str) else None
        if parsed_dt is None:
            raise _parser_error("datetime", value)
        return parsed_dt
    # Text-like fields: Salesforce takes JSON numbers and booleans and stores their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise _parser_error("String", value)
    return value


def check_stored(f: FieldDef, value: Any) -> Any:
    """Save-time checks on a coerced value (length, range, email shape); returns the value."""
    if value is None:
        return None
    if f.type in NUMBER_TYPES:
        quantum = Decimal(1).scaleb(-f.scale)
        rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
        if rounded.adjusted() >= f.precision - f.scale:
            raise SalesforceError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{f.name}: value outside of valid range on numeric field: {value}",
                fields=[f.name],
            )
        return rounded
    if isinstance(value, str) and f.length and len(value) > f.length:
        raise SalesforceError(
            "STRING_TOO_LONG",
            f"{f.name}: data value too large: {value[:40]} (max length={f.length})",
            fields=[f.name],
        )
    if f.type == "email" and value and not _EMAIL.match(value):
        raise SalesforceError(
            "INVALID_EMAIL_ADDRESS", f"{f.name}: invalid email address: {value}", fields=[f.name]
        )
    return value


def render(value: Any) -> Any:
    """The JSON-ready form of a stored value (Decimals stay Decimal for `dumps`)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def dumps(obj: Any) -> str:
    """JSON text in which Decimals are exact numbers and dates are in Salesforce's formats."""
    return exact_dumps(obj, text=render)
