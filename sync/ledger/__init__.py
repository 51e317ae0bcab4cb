"""The embedded ledger: closebot's default ERP, double-entry books in closebot's own database."""

from sync.ledger.errors import (
    CurrencyMismatchError,
    LedgerError,
    NotFoundError,
    OverCreditError,
    OverpaymentError,
    UnbalancedEntryError,
)
from sync.ledger.records import InvoiceLineIn, SalesOrderLineIn
from sync.ledger.reports import InvoiceView
from sync.ledger.service import Ledger

__all__ = [
    "CurrencyMismatchError",
    "InvoiceLineIn",
    "InvoiceView",
    "Ledger",
    "LedgerError",
    "NotFoundError",
    "OverCreditError",
    "OverpaymentError",
    "SalesOrderLineIn",
    "UnbalancedEntryError",
]
