"""What closebot reads back from NetSuite: its own records for the audit, and for the go-live
import what the account already holds (customers, open invoices), a page at a time.

Every read is one SuiteQL query (amounts as exact decimals, turned into minor units of the
row's currency); nothing here writes. Kept apart from the postings (`netsuite.py`), which
inherit these reads, as Sage Intacct's are (`intacct_books.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sync.connectors.netsuite_lookups import CREDIT_ITEM, NetSuiteLookups
from sync.ledger.erp_reversals import REVENUE_ACCOUNTS
from sync.model import ClosureKind
from sync.money import to_minor
from sync.ports import (
    ErpCustomer,
    ErpInvoice,
    PostedCredit,
    PostedInvoice,
    PostedOrder,
    PostedReversal,
)
from sync.ports_books import REVERSAL

PAGE = 1000


class NetSuiteReads(NetSuiteLookups):
    # --- reading the books (the audit) -----------------------------------------------------

    def posted_invoices(self) -> list[PostedInvoice]:
        """closebot's invoices in NetSuite (those with an external ID), in one SuiteQL read."""
        return [
            PostedInvoice(row["externalid"], row.get("tranid"), self._minor(
                row, "foreignamountremaining"), self._minor(row, "foreigntotal"),
                self._symbol(row))
            for row in self._transactions("CustInvc")
        ]

    def posted_credits(self) -> list[PostedCredit]:
        """Credit memos by the billing credit note they carry; which invoice each applies to
        is not read (SuiteQL's transaction table doesn't say), the credit note knows it. A
        void's or write-off's memo names its invoice in its key, `<invoice>:<kind>`."""
        contra: dict[str, int] = {}
        memos = list(self._transactions("CustCred"))
        currency = {row["id"]: self._symbol(row) for row in memos}
        for line in self.suiteql("SELECT transaction, foreignamount FROM transactionline "
                                 f"WHERE item = {self._item_id(CREDIT_ITEM)}"):
            if (memo := str(line["transaction"])) in currency:
                contra[memo] = contra.get(memo, 0) + to_minor(
                    abs(Decimal(str(line["foreignamount"]))), currency[memo])
        return [PostedCredit(row["externalid"], self._minor(row, "foreigntotal"),
                             self._symbol(row), _closed_invoice(row["externalid"]),
                             contra.get(str(row["id"]), 0))
                for row in memos]

    def sales_orders(self) -> list[PostedOrder]:
        return [PostedOrder(row["externalid"], self._symbol(row), self._minor(row, "foreigntotal"))
                for row in self._transactions("SalesOrd")]

    def ledger_books(self) -> None:
        """Revenue schedules and the general ledger are NetSuite's own; not read here."""
        return None

    def revenue_reversals(self) -> list[PostedReversal]:
        """closebot's reversal journal entries and what each debits to revenue: the entries,
        then the revenue accounts' accounting lines (`amount` is debit less credit)."""
        entries = {str(row["id"]): row for row in self.suiteql(
            "SELECT id, externalid, currency FROM transaction WHERE type = 'Journal' AND "
            f"externalid LIKE '{REVERSAL}%'")}
        if not entries:
            return []
        ids = self.account_ids()
        accounts = ", ".join(ids[code] for code in REVENUE_ACCOUNTS if code in ids)
        debited = dict.fromkeys(entries, 0)
        # Only the reversal entries' lines (a page of ids at a time), not every revenue line
        # the closes have posted; a chart without closebot's revenue accounts has none.
        keys = sorted(entries) if accounts else []
        for first in range(0, len(keys), PAGE):
            for line in self.suiteql(
                    "SELECT transaction, amount FROM transactionaccountingline WHERE account IN "
                    f"({accounts}) AND transaction IN ({', '.join(keys[first:first + PAGE])})"):
                entry = str(line["transaction"])
                debited[entry] += to_minor(Decimal(str(line["amount"])),
                                           self._symbol(entries[entry]))
        return [PostedReversal(row["externalid"], self._symbol(row), debited[entry])
                for entry, row in entries.items()]

    def _transactions(self, kind: str) -> Iterator[dict[str, str]]:
        return self.suiteql(
            "SELECT id, externalid, tranid, currency, foreigntotal, foreignamountremaining "
            f"FROM transaction WHERE type = '{kind}' AND externalid IS NOT NULL")

    def _symbol(self, row: dict[str, str]) -> str:
        return {v: k for k, v in self._currency_map().items()}[row["currency"]]

    def _minor(self, row: dict[str, str], column: str) -> int:
        return to_minor(Decimal(row.get(column) or "0"), self._symbol(row))

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], int] = {}
        for table, kind in (("customer", "customer"), ("transaction", None)):
            columns = "externalid" + ("" if kind else ", type")
            for row in self.suiteql(f"SELECT {columns} FROM {table} WHERE externalid IS NOT NULL"):
                key = (kind or row["type"], row["externalid"])
                seen[key] = seen.get(key, 0) + 1
        return sorted(key for key, n in seen.items() if n > 1)

    def unbalanced_entries(self) -> list[str]:
        return []  # NetSuite writes the GL impact of each transaction itself, always balanced

    # --- what already exists (the go-live import) --------------------------------------------

    def customers(self) -> Iterator[list[ErpCustomer]]:
        rows = self.suiteql("SELECT id, companyname, email, externalid FROM customer ORDER BY id")
        for page in _chunks(rows):
            yield [ErpCustomer(id=str(r["id"]), name=r.get("companyname") or "",
                               email=r.get("email"), external_id=r.get("externalid"))
                   for r in page]

    def open_invoices(self) -> Iterator[list[ErpInvoice]]:
        symbols = {v: k for k, v in self._currency_map().items()}
        rows = self.suiteql(
            "SELECT id, tranid, externalid, entity, currency, foreigntotal, "
            "foreignamountremaining, duedate FROM transaction WHERE type = 'CustInvc' "
            "AND foreignamountremaining > 0 ORDER BY id")
        for page in _chunks(rows):
            yield [_open_invoice(r, symbols[r["currency"]]) for r in page]


def _open_invoice(row: dict[str, Any], currency: str) -> ErpInvoice:
    def minor(column: str) -> int:
        return to_minor(Decimal(row.get(column) or "0"), currency)

    return ErpInvoice(id=str(row["id"]), number=row.get("tranid"), customer_id=str(row["entity"]),
                      currency=currency, total_minor=minor("foreigntotal"),
                      open_minor=minor("foreignamountremaining"),
                      external_id=row.get("externalid"), due_on=suiteql_day(row.get("duedate")))


def suiteql_day(value: str | None) -> date | None:
    """A SuiteQL date: ISO, or the account's default M/D/YYYY when no format is set."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        month, day, year = (int(part) for part in value.split("/"))
        return date(year, month, day)


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    for row in rows:
        page.append(row)
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def _closed_invoice(external_id: str) -> str | None:
    """The invoice a closure memo (`InvoiceClosure.key`) belongs to; None for any other memo."""
    invoice, sep, kind = external_id.rpartition(":")
    return invoice if sep and invoice and kind in {k.value for k in ClosureKind} else None
