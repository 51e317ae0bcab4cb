"""The objects the emulator serves, by their REST names, and how their amounts are written.

Sage Intacct's REST API writes amounts as decimal strings (`"1200.00"`) and dates as ISO dates;
references to other objects are `{"id": …}` or `{"key": …}`. Closebot uses the order entry
*Sales Order* document as the order (see docs/intacct.md for why not a contract).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.intacct.errors import invalid

CUSTOMER = "accounts-receivable/customer"
INVOICE = "accounts-receivable/invoice"
PAYMENT = "accounts-receivable/payment"
ADJUSTMENT = "accounts-receivable/adjustment"
# A customer's money received ahead of (or beyond) an invoice: Dr undeposited funds / Cr its
# lines' accounts (customer advances), applied to invoices later by an AR payment detail's
# `postedAdvance`.
ADVANCE = "accounts-receivable/advance"
SALES_ORDER = "order-entry/document::Sales Order"
JOURNAL_ENTRY = "general-ledger/journal-entry"
ACCOUNT = "general-ledger/account"
ITEM = "inventory-control/item"
OBJECTS = (CUSTOMER, INVOICE, PAYMENT, ADJUSTMENT, ADVANCE, SALES_ORDER, JOURNAL_ENTRY, ACCOUNT,
           ITEM)
# An owned object: an adjustment's lines, read through the query service (each names its
# adjustment as `arAdjustment`), written only with the adjustment.
ADJUSTMENT_LINE = "accounts-receivable/adjustment-line"
# A journal entry's lines, read the same way (each names its entry as `journalEntry`), and an
# AR invoice's (each naming its `invoice`).
JOURNAL_LINE = "general-ledger/journal-entry-line"
INVOICE_LINE = "accounts-receivable/invoice-line"

# A company's chart as a small SaaS company sets it up (id, name, normal balance).
CHART = (
    ("1010", "Undeposited funds", "debit"), ("1100", "Accounts receivable", "debit"),
    ("2100", "Deferred revenue", "credit"), ("2300", "Sales tax payable", "credit"),
    ("4000", "Subscription revenue", "credit"), ("4100", "Services revenue", "credit"),
    ("4900", "Credits and allowances", "debit"), ("6200", "Bad debt expense", "debit"),
    ("6100", "Payment processing fees", "debit"), ("1000", "Operating bank", "debit"),
    ("1300", "Disputed funds", "debit"), ("6300", "Dispute fees", "debit"),
    ("6400", "Chargeback losses", "debit"), ("2200", "Customer advances", "credit"),
)
AR_ACCOUNT = "1100"  # the AR module's own GL account: invoices, adjustments and payments post to it
CURRENCIES = {"USD": 2, "GBP": 2, "CAD": 2, "EUR": 2, "AUD": 2, "JPY": 0}


def amount(value: Any, where: str) -> Decimal:
    """A request's amount: a decimal string or number, never a float's rounding."""
    try:
        parsed = Decimal(str(value))
    except ArithmeticError:
        raise invalid(f"{where} must be a decimal amount, not {value!r}", field=where) from None
    if not parsed.is_finite():
        raise invalid(f"{where} must be a decimal amount, not {value!r}", field=where)
    return parsed


def money(value: Decimal, currency: str) -> str:
    places = CURRENCIES.get(currency, 2)
    return str(value.quantize(Decimal(1).scaleb(-places)))


def ref(body: dict[str, Any], name: str, part: str = "id") -> str:
    value = body.get(name)
    found = value.get(part) if isinstance(value, dict) else None
    if not found:
        raise invalid(f"{name}.{part} is required", field=f"{name}.{part}")
    return str(found)


def href(obj: str, key: str) -> str:
    return f"/objects/{obj.replace(' ', '%20')}/{key}"
