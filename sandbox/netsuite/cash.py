"""Cash records (deposit, customerRefund, journalEntry) and every transaction's general-ledger
lines, as NetSuite's GL impact shows them and SuiteQL's `transactionaccountingline` reads them.

- invoice: Dr Accounts Receivable, its total / Cr each line's item account: the item's
  deferred revenue account when it has one, else its income account, else Sales (an item
  created without one, and the tax); a credit memo the reverse. NetSuite's revenue recognition
  without ARM books a sale of an item that carries a deferred revenue account to that account,
  and releases it to income later by journal entries (here, closebot's revenue entries); the
  emulator runs no NetSuite schedule of its own. An item's income account is set per item and
  may be any account: a write-off item pointed at Bad Debt Expense debits it on a credit memo.
- customerPayment: Dr its account (Undeposited Funds when none is given) / Cr AR.
- deposit: Dr its bank account for the lines' sum / Cr each `other` line's account (Dr for a
  negative line, a deduction such as a fee); a total of zero or less is refused.
- customerRefund: Dr AR / Cr the account paid from; it refunds credit memos' unapplied amounts.
- journalEntry: its lines as given, at most 200; debits must equal credits.
Amounts are in the transaction's currency (the emulator's accounts are single-currency).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.netsuite import sublists, values
from sandbox.netsuite.errors import user_error
from sandbox.netsuite.schema import (
    ACCOUNT,
    CREDIT_MEMO,
    CUSTOMER_PAYMENT,
    CUSTOMER_REFUND,
    DEPOSIT,
    INVOICE,
    JOURNAL_ENTRY,
    RECEIVABLES,
    SALES,
    SERVICE_SALE_ITEM,
    TRANSACTION_TYPES,
    UNDEPOSITED,
    RecordType,
)
from sandbox.netsuite.store import Record, Store
from sandbox.netsuite.wire import plain

GL_LINE_FIELDS = ("account", "debit", "credit", "amount", "memo")
ZERO = Decimal(0)
# NetSuite Help, "Limitations for Creating Transactions": journal entries, 200 lines, for
# entries created through REST as through the user interface.
JOURNAL_LINE_LIMIT = 200


def gl_lines(value: Any, resolve: sublists.Resolver, path: str) -> list[dict[str, Any]]:
    """Journal lines (account, debit, credit) or deposit lines (account, amount), as stored."""
    out: list[dict[str, Any]] = []
    for i, line in enumerate(sublists.lines(value, path, GL_LINE_FIELDS)):
        where = f"{path}.items[{i}]"
        if line.get("account") is None:
            raise user_error("Please enter value(s) for: Account", f"{where}.account")
        stored: dict[str, Any] = {"account": resolve(
            values.reference(line["account"], f"{where}.account"), "account", f"{where}.account")}
        for name in ("debit", "credit", "amount"):
            if line.get(name) is not None:
                stored[name] = values.number(line[name], f"{where}.{name}")
        if line.get("memo") is not None:
            stored["memo"] = values.text(line["memo"], f"{where}.memo", 4000)
        out.append(stored)
    return out


def refund_lines(value: Any, resolve: sublists.Resolver, path: str) -> list[dict[str, Any]]:
    """A customer refund's applications: the credit memos it pays out, and how much of each."""
    out: list[dict[str, Any]] = []
    for i, line in enumerate(sublists.lines(value, path, sublists.APPLY_LINE_FIELDS)):
        where = f"{path}.items[{i}]"
        if line.get("doc") is None or line.get("amount") is None:
            raise user_error("Please enter value(s) for: Credit memo, Amount", where)
        if line.get("apply") is False:
            continue
        doc = resolve(values.reference(line["doc"], f"{where}.doc"), "creditMemo", f"{where}.doc")
        out.append({"doc": doc, "amount": values.number(line["amount"], f"{where}.amount"),
                    "line": i})
    return out


def refuse_closed(store: Store, day: Any) -> None:
    """NetSuite doesn't post a transaction dated in a closed accounting period."""
    if day is not None and f"{day:%Y-%m}" in store.closed_periods:
        raise user_error(f"The transaction date {day:%m/%d/%Y} is in a closed period "
                         f"({day:%b %Y}); choose a date in an open period.", "tranDate")


def settle_cash(store: Store, rtype: RecordType, record: Record) -> None:
    """Check a cash record as it would be saved and fill in its total."""
    places = store.currency_places(record["currency"])
    if rtype is JOURNAL_ENTRY:
        refuse_closed(store, record.get("tranDate"))
        lines = record["line"]
        if len(lines) > JOURNAL_LINE_LIMIT:
            raise user_error(f"A journal entry can have at most {JOURNAL_LINE_LIMIT} lines; "
                             f"this one has {len(lines)}.", "line")
        debits = credits = ZERO
        for i, line in enumerate(lines):
            debit, credit = line.get("debit", ZERO), line.get("credit", ZERO)
            for name, amount in (("debit", debit), ("credit", credit)):
                values.places(amount, places, f"line.items[{i}].{name}")
            if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
                raise user_error("Each journal line takes either a debit or a credit.",
                                 f"line.items[{i}]")
            debits, credits = debits + debit, credits + credit
        if len(lines) < 2 or debits != credits:
            raise user_error(f"The journal entry is out of balance: debits {plain(debits)}, "
                             f"credits {plain(credits)}.", "line")
        record["total"] = debits
    elif rtype is DEPOSIT:
        total = ZERO
        for i, line in enumerate(record["other"]):
            amount = values.places(line.get("amount", ZERO), places, f"other.items[{i}].amount")
            if amount == 0:  # a negative line is a deduction (a fee, a refund) from the deposit
                raise user_error("Please enter a value for: Amount.", f"other.items[{i}].amount")
            total += amount
        if not record["other"]:
            raise user_error("You must enter at least one line to deposit.", "other")
        if total <= 0:
            raise user_error(f"The deposit total must be greater than zero; its lines sum to "
                             f"{plain(total)}.", "other")
        record["total"] = total
    elif rtype is CUSTOMER_REFUND:
        total = ZERO
        for line in record["apply"]:
            where = f"apply.items[{line['line']}]"
            memo = store.get(CREDIT_MEMO, line["doc"])
            assert memo is not None  # resolved when the body was read
            if memo["entity"] != record["customer"] or memo["currency"] != record["currency"]:
                raise user_error(f"The credit memo {memo['tranId']} belongs to another "
                                 "customer or currency.", f"{where}.doc")
            left = memo["unapplied"] - store.applied_to(
                line["doc"], excluding=(rtype.name, record.get("id", "")))
            amount = values.places(line["amount"], places, f"{where}.amount")
            if amount <= 0 or amount > left:
                raise user_error(f"You can't refund {plain(amount)} of credit memo "
                                 f"{memo['tranId']}: {plain(left)} is left.", f"{where}.amount")
            total += amount
        if total <= 0:
            raise user_error("You must choose at least one credit to refund.", "apply")
        record["total"] = total


def refunded(store: Store, memo_id: str) -> Decimal:
    """What customer refunds paid out of a credit memo."""
    return store.applied_by_kind(memo_id, CUSTOMER_REFUND.name)


GlLine = tuple[str, Decimal, Decimal]  # account id, debit, credit


def gl_impact(store: Store, rtype: RecordType, record: Record) -> list[GlLine]:
    """(account id, debit, credit) of each general-ledger line the transaction posts."""
    ar, sales = store.account_id(RECEIVABLES), store.account_id(SALES)
    if rtype is INVOICE:
        return [(ar, record["total"], ZERO), *_sales_lines(store, record, sales, sign=1)]
    if rtype is CREDIT_MEMO:
        return [*_sales_lines(store, record, sales, sign=-1), (ar, ZERO, record["total"])]
    if rtype is CUSTOMER_PAYMENT:
        into = record.get("account") or store.account_id(UNDEPOSITED)
        return [(into, record["payment"], ZERO), (ar, ZERO, record["payment"])]
    if rtype is CUSTOMER_REFUND:
        return [(ar, record["total"], ZERO), (record["account"], ZERO, record["total"])]
    if rtype is DEPOSIT:
        return [(record["account"], record["total"], ZERO),
                *((line["account"], max(-line["amount"], ZERO), max(line["amount"], ZERO))
                  for line in record["other"])]
    if rtype is JOURNAL_ENTRY:
        return [(line["account"], line.get("debit", ZERO), line.get("credit", ZERO))
                for line in record["line"]]
    return []  # a sales order posts nothing


def _sales_lines(store: Store, record: Record, sales: str, *, sign: int) -> list[GlLine]:
    """The revenue side of an invoice (`sign` 1, credits) or a credit memo (-1, debits): per
    account, the lines whose item carries a deferred revenue account there, else those whose
    item carries an income account there, the rest (tax and any difference to the total) to
    Sales."""
    by_account: dict[str, Decimal] = {}
    for line in record.get("item") or []:
        item = store.get(SERVICE_SALE_ITEM, line["item"]) or {}
        account = item.get("deferredRevenueAccount") or item.get("incomeAccount")
        if account:
            by_account[account] = by_account.get(account, ZERO) + line["amount"]
    by_account[sales] = by_account.get(sales, ZERO) + record["total"] - sum(
        by_account.values(), ZERO)
    out: list[GlLine] = []
    for account, amount in by_account.items():
        if amount:
            credit = amount * sign
            out.append((account, max(-credit, ZERO), max(credit, ZERO)))
    return out


def account_rows(store: Store) -> list[dict[str, Any]]:
    return [{"id": int(r["id"]), "acctnumber": r["acctNumber"], "fullname": r["acctName"],
             "accttype": r["acctType"]} for r in store.all(ACCOUNT)]


def accounting_line_rows(store: Store) -> list[dict[str, Any]]:
    """SuiteQL's `transactionaccountingline`: `amount` is debit less credit."""
    rows: list[dict[str, Any]] = []
    for rtype in TRANSACTION_TYPES:
        for r in store.all(rtype):
            rows.extend({"transaction": int(r["id"]), "account": int(account), "debit": debit,
                         "credit": credit, "amount": debit - credit, "posting": "T"}
                        for account, debit, credit in gl_impact(store, rtype, r))
    rows.sort(key=lambda row: row["transaction"])
    return rows
