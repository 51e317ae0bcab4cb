"""Where closebot's NetSuite records book: the subsidiary (OneWorld), the department, class and
location segments, the income account of closebot's items and the tax code of invoice lines,
each a setting naming the record's internal ID. NetSuite's refusals of them are turned into
plain words naming the setting or the NetSuite page to fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# body field → (what a finance person calls it, the setting that names it, its record type)
FIELDS = {
    "subsidiary": ("subsidiary", "NETSUITE_SUBSIDIARY", "subsidiary"),
    "department": ("department", "NETSUITE_DEPARTMENT", "department"),
    "class": ("class", "NETSUITE_CLASS", "classification"),
    "location": ("location", "NETSUITE_LOCATION", "location"),
    "incomeAccount": ("income account", "NETSUITE_INCOME_ACCOUNT", "account"),
    "taxCode": ("tax code", "NETSUITE_TAX_CODE", "salesTaxItem"),
}
_INVALID_VALUE = re.compile(r"Invalid Field Value (\S+) for the following field")
_NOT_ALLOWED = re.compile(r"currency (\w+) is not available for the subsidiary (.+?)\.?$")


@dataclass(frozen=True)
class NetSuiteSetup:
    subsidiary: str | None = None
    department: str | None = None
    class_: str | None = None
    location: str | None = None
    income_account: str | None = None
    tax_code: str | None = None

    def head(self, *, with_segments: bool = True) -> dict[str, Any]:
        """The subsidiary and segments a record carries, as references."""
        values = {"subsidiary": self.subsidiary}
        if with_segments:
            values |= {"department": self.department, "class": self.class_,
                       "location": self.location}
        return {name: {"id": value} for name, value in values.items() if value}

    def configured(self) -> list[tuple[str, str]]:
        """(body field, internal ID) of each setting that is set."""
        values = (self.subsidiary, self.department, self.class_, self.location,
                  self.income_account, self.tax_code)
        return [(field, value) for field, value in zip(FIELDS, values, strict=True) if value]


def explain(path: str | None, detail: str) -> str | None:
    """A finance person's reason for a refusal about these settings; None for any other."""
    field = (path or "").rsplit(".", 1)[-1]
    if field == "subsidiary" and "Primary Subsidiary" in detail:
        return ("NetSuite is a OneWorld account and every customer needs a subsidiary: set "
                "NETSUITE_SUBSIDIARY to the internal ID of the subsidiary closebot sells from "
                "(NetSuite: Setup > Company > Subsidiaries), then Retry.")
    if field == "currency" and (found := _NOT_ALLOWED.search(detail)):
        symbol, name = found.groups()
        return (f"NetSuite's subsidiary {name} does not allow {symbol}: add {symbol} to its "
                "currencies in NetSuite (Setup > Company > Subsidiaries), or set "
                "NETSUITE_SUBSIDIARY to one that does, then Retry.")
    if field in FIELDS and (found := _INVALID_VALUE.search(detail)):
        label, setting, _ = FIELDS[field]
        return (f"NetSuite has no {label} with internal ID {found.group(1)}: set {setting} to "
                f"the internal ID of an existing {label} in NetSuite, then Retry.")
    return None
