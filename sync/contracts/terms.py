"""Parsing the commercial terms as salespeople type them into the CRM."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sync.model import Cadence

CADENCES = {
    "monthly": Cadence.MONTHLY,
    "month": Cadence.MONTHLY,
    "quarterly": Cadence.QUARTERLY,
    "quarter": Cadence.QUARTERLY,
    "annual": Cadence.ANNUAL,
    "annually": Cadence.ANNUAL,
    "yearly": Cadence.ANNUAL,
}
RECURRING = {"recurring", "subscription"}
ONE_TIME = {"one-time", "one time", "onetime", "one_time"}
_NET = re.compile(r"^net\s*(\d{1,3})$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-5]{3})?$")
_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def parse_cadence(value: Any) -> Cadence | None:
    return CADENCES.get(str(value).strip().lower()) if value is not None else None


def parse_payment_terms(value: Any) -> int | None:
    """Days until due: `Net 30` → 30, `Due on receipt` → 0; anything else is unknown."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in {"due on receipt", "due upon receipt", "upon receipt"}:
        return 0
    match = _NET.match(text)
    return int(match.group(1)) if match else None


def parse_billing_type(value: Any) -> bool | None:
    """True for a recurring line, False for a one-time fee, None when unreadable."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in RECURRING:
        return True
    if text in ONE_TIME:
        return False
    return None


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def salesforce_id(text: str) -> str | None:
    """The 18-character form of a Salesforce record ID typed in any of its forms, or None.

    The 15-character form is case-sensitive; Salesforce's 18-character form appends three
    characters, each encoding which of five characters are upper case. So a 15-character ID
    gets its suffix, and an 18-character ID typed in the wrong case gets its case back.
    """
    value = text.strip()
    if not _RECORD_ID.match(value):
        return None
    if len(value) == 18:
        chars = list(value[:15])
        for chunk, code in enumerate(value[15:].upper()):
            bits = _ID_SUFFIX.index(code)
            for pos in range(5):
                i = chunk * 5 + pos
                chars[i] = chars[i].upper() if bits >> pos & 1 else chars[i].lower()
        value = "".join(chars)
    return value + _id_suffix(value)


def _id_suffix(id15: str) -> str:
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << pos for pos, ch in enumerate(id15[chunk * 5:chunk * 5 + 5])
                   if "A" <= ch <= "Z")
        suffix += _ID_SUFFIX[bits]
    return suffix


def parse_milestones(text: str | None) -> tuple[Decimal, ...] | None:
    """The Milestones field: "30/30/40" → (30, 30, 40); None when blank. Raises ValueError, in
    words finance reads, for anything that is not positive percentages adding up to 100."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip().removesuffix("%").strip() for p in str(text).split("/")]
    try:
        values = tuple(Decimal(p) for p in parts)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not percentages separated by slashes, like 30/30/40") \
            from None
    if any(not v.is_finite() or v <= 0 for v in values):
        raise ValueError(f"'{text}': each milestone must be a percentage above 0")
    if sum(values) != 100:
        raise ValueError(f"'{text}' adds up to {sum(values)}%, not 100%")
    return values
