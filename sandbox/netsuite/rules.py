"""Transaction arithmetic and the rules NetSuite enforces when a transaction is saved.

Totals are sums of line amounts; an invoice's balance is its total less what payments and credit
memos apply to it. A save that breaks a rule is a USER_ERROR naming the offending body path, and
nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox.netsuite import billing, cash, values
from sandbox.netsuite.errors import user_error
from sandbox.netsuite.schema import (
    CREDIT_MEMO,
    CUSTOMER_PAYMENT,
    CUSTOMER_REFUND,
    DEPOSIT,
    INVOICE,
    JOURNAL_ENTRY,
    RecordType,
)
from sandbox.netsuite.store import Record, Store
from sandbox.netsuite.wire import plain

OPEN, PAID_IN_FULL = ("A", "Open"), ("B", "Paid In Full")
FULLY_APPLIED = ("B", "Fully Applied")
NOT_DEPOSITED = ("B", "Not Deposited")


def settle(store: Store, rtype: RecordType, record: Record, previous: Record | None) -> None:
    """Check `record` (the whole record as it would be saved) and fill in its totals."""
    if not rtype.is_transaction:
        return
    record_places = store.currency_places(record["currency"])
    if "item" in record:
        _check_lines(record, record_places, allow_zero_total=rtype is not CREDIT_MEMO)
    if rtype is INVOICE and previous is not None:
        _check_invoice_change(store, record, previous)
    if rtype is CUSTOMER_PAYMENT:
        values.places(record["payment"], record_places, "payment")
        if record["payment"] <= 0:
            raise user_error("The payment amount must be greater than zero.", "payment")
        _check_applications(store, rtype, record, record["payment"])
    if rtype is CREDIT_MEMO:
        _check_applications(store, rtype, record, record["total"])
    if rtype in (DEPOSIT, CUSTOMER_REFUND, JOURNAL_ENTRY):
        cash.settle_cash(store, rtype, record)


def _check_lines(record: Record, record_places: int, *, allow_zero_total: bool) -> None:
    lines = record["item"]
    if not lines:
        raise user_error("You must enter at least one line item for this transaction.", "item")
    for i, line in enumerate(lines):
        values.places(line["amount"], record_places, f"item.items[{i}].amount")
    total = sum((line["amount"] for line in lines), Decimal(0))
    if total < 0 or (total == 0 and not allow_zero_total):
        floor = "negative" if allow_zero_total else "zero or negative"
        raise user_error(f"The transaction total can't be {floor} ({plain(total)}).", "item")
    record["total"] = total


def _check_invoice_change(store: Store, record: Record, previous: Record) -> None:
    applied = store.applied_to(record["id"])
    if applied == 0:
        return
    for name in ("entity", "currency"):
        if record[name] != previous[name]:
            raise user_error(
                f"You can't change the {name} of an invoice that has payments or credits "
                "applied to it.",
                name,
            )
    if record["total"] < applied:
        raise user_error(
            f"The invoice total {plain(record['total'])} can't be less than the "
            f"{plain(applied)} already applied to it.",
            "item",
        )


def _check_applications(
    store: Store, rtype: RecordType, record: Record, available: Decimal
) -> None:
    customer = record["customer" if rtype is CUSTOMER_PAYMENT else "entity"]
    source = (rtype.name, record.get("id", ""))
    seen: set[str] = set()
    applied = Decimal(0)
    for line in record["apply"]:
        where = f"apply.items[{line['line']}]"
        invoice = store.get(INVOICE, line["doc"])
        assert invoice is not None  # resolved when the body was read
        label = f"invoice {invoice['tranId']}"
        if line["doc"] in seen:
            raise user_error(f"The {label} is applied more than once.", f"{where}.doc")
        seen.add(line["doc"])
        if invoice["entity"] != customer:
            raise user_error(f"The {label} belongs to another customer.", f"{where}.doc")
        if invoice["currency"] != record["currency"]:
            raise user_error(f"The {label} is in another currency.", f"{where}.doc")
        amount = values.places(
            line["amount"], store.currency_places(record["currency"]), f"{where}.amount"
        )
        if amount <= 0:
            raise user_error("An applied amount must be greater than zero.", f"{where}.amount")
        due = invoice["total"] - store.applied_to(line["doc"], excluding=source)
        if amount > due:
            raise user_error(
                f"You can't apply {plain(amount)} to {label}: only {plain(due)} is due.",
                f"{where}.amount",
            )
        applied += amount
    if applied > available:
        raise user_error(
            f"The total applied ({plain(applied)}) is more than the {plain(available)} "
            "available to apply.",
            "apply",
        )
    record["applied"] = applied
    record["unapplied"] = available - applied


# -- derived values, for rendering and SuiteQL --------------------------------------------------


def invoice_balance(store: Store, record: Record) -> tuple[Decimal, Decimal]:
    """(amount paid by payments, amount remaining after payments and credit memos)."""
    paid = store.applied_by_kind(record["id"], CUSTOMER_PAYMENT.name)
    credited = store.applied_by_kind(record["id"], CREDIT_MEMO.name)
    return paid, record["total"] - paid - credited


def status(store: Store, rtype: RecordType, record: Record) -> tuple[str, str]:
    if rtype is INVOICE:
        return PAID_IN_FULL if invoice_balance(store, record)[1] == 0 else OPEN
    if rtype is CREDIT_MEMO:
        return FULLY_APPLIED if amount_remaining(store, rtype, record) == 0 else OPEN
    if rtype is CUSTOMER_PAYMENT:
        return NOT_DEPOSITED
    return billing.order_status(store, record)


def amount_remaining(store: Store, rtype: RecordType, record: Record) -> Decimal | None:
    if rtype is INVOICE:
        return invoice_balance(store, record)[1]
    if rtype is CREDIT_MEMO:
        return Decimal(record["unapplied"]) - cash.refunded(store, record["id"])
    if rtype is CUSTOMER_PAYMENT:  # what is left to apply: the customer's unapplied cash
        return Decimal(record["unapplied"])
    return None
