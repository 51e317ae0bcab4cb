"""The embedded ledger: closebot's default ERP, double-entry books in closebot's own database
(journal, chart of accounts, customers, sales orders, invoices, settlements, reports). It is one
ERP among others: the engine reaches it through `sync.connectors.ledger`, like NetSuite.

May import: the shared vocabulary, `sync.revenue` (the schedules it stores and posts) and
`storage`.
"""

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
