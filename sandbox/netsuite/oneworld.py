"""OneWorld: subsidiaries, the setup records transactions book to, and the rules NetSuite
applies to them.

In a OneWorld account every customer belongs to a subsidiary ("Primary Subsidiary" is
mandatory), and a customer or transaction may only use a currency its subsidiary allows. The
account is seeded with two subsidiaries (1 "Parent Company", base USD, allowing every seeded
currency; 2 "UK Ltd", base GBP, allowing GBP and USD), two income accounts, one department,
class, location and tax code each.

A cash record without a customer (a deposit, a journal entry) has no subsidiary to take from
one, so in OneWorld it must name its own, as NetSuite's form insists; a customer refund takes
its customer's when it names none. The transaction's subsidiary is what SuiteQL reports, so
each subsidiary's books (Clearing, Cash) read apart.
"""

from __future__ import annotations

from typing import Any

from sandbox.netsuite.errors import user_error
from sandbox.netsuite.schema import (
    CLASSIFICATION,
    CURRENCY,
    CUSTOMER,
    DEPARTMENT,
    DEPOSIT,
    JOURNAL_ENTRY,
    LOCATION,
    SALES_TAX_ITEM,
    SUBSIDIARY,
    RecordType,
)

# Cash records with no customer to take a subsidiary from.
NEEDS_SUBSIDIARY = (DEPOSIT, JOURNAL_ENTRY)

# name, base currency, the currencies it allows
SUBSIDIARIES = (("Parent Company", "USD", ("USD", "GBP", "CAD", "EUR", "AUD", "JPY")),
                ("UK Ltd", "GBP", ("GBP", "USD")))
SETUP: tuple[tuple[RecordType, dict[str, Any]], ...] = (
    (DEPARTMENT, {"name": "Sales"}),
    (CLASSIFICATION, {"name": "SaaS"}),
    (LOCATION, {"name": "Headquarters"}),
    (SALES_TAX_ITEM, {"itemId": "-Not Taxable-"}),
)


def seed(store: Any) -> None:
    ids = {r["symbol"]: r["id"] for r in store.all(CURRENCY)}
    for name, base, allowed in SUBSIDIARIES:
        store.insert(SUBSIDIARY, {"name": name, "currency": ids[base],
                                  "currencies": {ids[c] for c in allowed}})
    for rtype, record in SETUP:
        store.insert(rtype, dict(record))


def check(store: Any, rtype: RecordType, record: dict[str, Any]) -> None:
    """A save in a OneWorld account: the customer's subsidiary, and the currency it allows."""
    if not store.one_world or not (rtype is CUSTOMER or rtype.is_transaction):
        return
    subsidiary_id = record.get("subsidiary")
    if subsidiary_id is None and rtype is not CUSTOMER:
        customer = store.get(CUSTOMER, record.get("entity") or record.get("customer") or "")
        subsidiary_id = (customer or {}).get("subsidiary")
    if subsidiary_id is None:
        if rtype is CUSTOMER:
            raise user_error("Please enter value(s) for: Primary Subsidiary", "subsidiary")
        if rtype in NEEDS_SUBSIDIARY:
            raise user_error("Please enter value(s) for: Subsidiary", "subsidiary")
        return
    subsidiary = store.get(SUBSIDIARY, subsidiary_id)
    currency = record.get("currency")
    if currency is not None and currency not in subsidiary["currencies"]:
        symbol = store.get(CURRENCY, currency)["symbol"]
        raise user_error(
            f"The currency {symbol} is not available for the subsidiary {subsidiary['name']}.",
            "currency")


def subsidiary_of(store: Any, record: dict[str, Any]) -> int | None:
    """The transaction's subsidiary: its own, else its customer's (None outside OneWorld)."""
    subsidiary_id = record.get("subsidiary")
    if subsidiary_id is None:
        customer = store.get(CUSTOMER, record.get("entity") or record.get("customer") or "")
        subsidiary_id = (customer or {}).get("subsidiary")
    return None if subsidiary_id is None else int(subsidiary_id)
