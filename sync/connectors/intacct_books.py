"""What the audit and the go-live import read back from Sage Intacct, through the query service
(pages of up to 4,000 rows, never one request per record): closebot's invoices, adjustments (and
what their lines book to contra revenue), sales orders and void reversal entries by the
`referenceNumber` it gave them, and invoices still open."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from sync.connectors.intacct_transport import IntacctTransport
from sync.ledger.erp_reversals import REVENUE_ACCOUNTS
from sync.model import ClosureKind
from sync.money import to_minor
from sync.ports import ErpInvoice, PostedCredit, PostedInvoice, PostedOrder, PostedReversal
from sync.ports_books import REVERSAL

_INVOICE, _ADJUSTMENT = "accounts-receivable/invoice", "accounts-receivable/adjustment"
_ORDER, _PAYMENT = "order-entry/document::Sales Order", "accounts-receivable/payment"
_ADJUSTMENT_LINE = "accounts-receivable/adjustment-line"
_JOURNAL = "general-ledger/journal-entry"  # the cash entries (sync/connectors/intacct_cash.py)
_JOURNAL_LINE = "general-ledger/journal-entry-line"
_CURRENCY = "currency.txnCurrency"
_OURS = [{"$ne": {"referenceNumber": None}}]


class IntacctBooks(IntacctTransport):
    def posted_invoices(self) -> list[PostedInvoice]:
        rows = self.query(_INVOICE, ["referenceNumber", "invoiceNumber", "totalTxnAmount",
                                     "totalTxnAmountDue", _CURRENCY], _OURS)
        return [PostedInvoice(r["referenceNumber"], r.get("invoiceNumber"),
                              _minor(r, "totalTxnAmountDue"), _minor(r, "totalTxnAmount"),
                              r[_CURRENCY]) for r in rows]

    credits_account = "4900"  # Credits & Allowances (contra revenue), as the chart numbers it

    def posted_credits(self) -> list[PostedCredit]:
        """Adjustments by the credit note (or closure key) they carry; an adjustment's amount is
        negative in Sage, a credit's is positive here. What each books to contra revenue is
        read from its lines, one query for all of them."""
        contra: Counter[str] = Counter()
        for line in self.query(_ADJUSTMENT_LINE, ["arAdjustment.key", "txnAmount", _CURRENCY],
                               [{"$eq": {"glAccount.id": self.credits_account}}]):
            contra[str(line["arAdjustment.key"])] -= _minor(line, "txnAmount")
        rows = self.query(_ADJUSTMENT, ["key", "referenceNumber", "totalTxnAmount", _CURRENCY],
                          _OURS)
        return [PostedCredit(r["referenceNumber"], -_minor(r, "totalTxnAmount"), r[_CURRENCY],
                             _closed_invoice(r["referenceNumber"]), contra[str(r["key"])])
                for r in rows]

    def sales_orders(self) -> list[PostedOrder]:
        rows = self.query(_ORDER, ["referenceNumber", "totalTxnAmount", _CURRENCY], _OURS)
        return [PostedOrder(r["referenceNumber"], r[_CURRENCY], _minor(r, "totalTxnAmount"))
                for r in rows]

    def ledger_books(self) -> None:
        """Revenue schedules and the general ledger are Sage Intacct's own; not read here."""
        return None

    def revenue_reversals(self) -> list[PostedReversal]:
        """closebot's reversal journal entries and what each debits to revenue, from their
        lines (one query; each line says its side)."""
        entries: dict[str, tuple[str, int]] = {}
        for line in self.query(_JOURNAL_LINE, [
                "journalEntry.referenceNumber", "glAccount.id", "txnType", "txnAmount",
                _CURRENCY], [{"$startsWith": {"journalEntry.referenceNumber": REVERSAL}}]):
            reference, currency = str(line["journalEntry.referenceNumber"]), line[_CURRENCY]
            debit = _minor(line, "txnAmount") * (1 if line["txnType"] == "debit" else -1)
            revenue = debit if str(line["glAccount.id"]) in REVENUE_ACCOUNTS else 0
            entries[reference] = (currency, entries.get(reference, (currency, 0))[1] + revenue)
        return [PostedReversal(reference, currency, debited)
                for reference, (currency, debited) in sorted(entries.items())]

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        seen: Counter[tuple[str, str]] = Counter()
        for obj in (_INVOICE, _ADJUSTMENT, _ORDER, _PAYMENT, _JOURNAL):
            kind = obj.rpartition("/")[2].split("::")[-1]
            seen.update((kind, r["referenceNumber"])
                        for r in self.query(obj, ["referenceNumber"], _OURS))
        return sorted(key for key, n in seen.items() if n > 1)

    def unbalanced_entries(self) -> list[str]:
        return []  # Sage refuses an unbalanced entry, and AR documents post their own GL

    def open_invoices(self) -> Iterator[list[ErpInvoice]]:
        rows = self.query(_INVOICE, ["key", "invoiceNumber", "referenceNumber", "customer.id",
                                     "totalTxnAmount", "totalTxnAmountDue", "dueDate",
                                     _CURRENCY],
                          [{"$gt": {"totalTxnAmountDue": "0"}}])
        while page := list(islice(rows, 1000)):
            yield [ErpInvoice(id=str(r["key"]), number=r.get("invoiceNumber"),
                              customer_id=str(r["customer.id"]), currency=r[_CURRENCY],
                              total_minor=_minor(r, "totalTxnAmount"),
                              open_minor=_minor(r, "totalTxnAmountDue"),
                              external_id=r.get("referenceNumber"),
                              due_on=_day(r.get("dueDate")))
                   for r in page]


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _minor(row: dict[str, Any], column: str) -> int:
    return to_minor(Decimal(str(row.get(column) or "0")), row[_CURRENCY])


def _closed_invoice(reference: str) -> str | None:
    """The invoice a closure's adjustment (`<invoice>:void|uncollectible`) belongs to."""
    invoice, sep, kind = reference.rpartition(":")
    return invoice if sep and invoice and kind in {k.value for k in ClosureKind} else None
