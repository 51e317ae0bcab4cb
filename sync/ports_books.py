"""What the audit reads from each system, in the shared vocabulary: a biller's invoices, credit
notes and subscriptions (`BillingBooks`), and an ERP's invoices, credit memos, sales orders and,
where it can tell, its general ledger traced to obligations (`LedgerBooks`). The ports that
return them are in `sync/ports.py`, which re-exports these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class BilledLine:
    product: str | None  # the product's name as the biller holds it
    amount_minor: int
    recurring: bool
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class BilledInvoice:
    """An invoice as the biller holds it. `key` is closebot's idempotency key, when it made it."""

    id: str
    number: str | None
    customer_id: str
    opportunity_id: str | None
    contract_version: int | None
    subscription_id: str | None
    key: str | None
    currency: str
    status: str  # draft | open | paid | void | uncollectible
    total_minor: int
    tax_minor: int
    amount_remaining_minor: int
    issued_at: datetime | None
    lines: tuple[BilledLine, ...] = ()


@dataclass(frozen=True)
class BilledCredit:
    id: str
    invoice_id: str
    amount_minor: int
    currency: str
    status: str  # issued | void
    key: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class BilledItem:
    product: str | None
    unit_minor: int
    quantity: int


@dataclass(frozen=True)
class BilledSubscription:
    """A subscription with what it will still bill: its items from `current_period_end` on,
    each period `interval_months` long from `anchor`, until `cancel_at` (None: no end)."""

    id: str
    customer_id: str
    opportunity_id: str | None
    contract_version: int | None
    key: str | None
    status: str
    currency: str
    interval_months: int | None  # None for a week- or day-based interval
    anchor: datetime
    current_period_end: datetime | None
    cancel_at: datetime | None
    items: tuple[BilledItem, ...] = ()


@dataclass(frozen=True)
class BillingBooks:
    customers: tuple[tuple[str, str | None], ...]  # (billing customer, CRM account)
    subscriptions: tuple[BilledSubscription, ...]
    invoices: tuple[BilledInvoice, ...]
    credits: tuple[BilledCredit, ...]


@dataclass(frozen=True)
class PostedInvoice:
    """An invoice as the ERP holds it, keyed by the billing invoice id closebot posted it under."""

    external_id: str
    number: str | None  # the billing invoice number
    open_minor: int  # what is still receivable on it
    total_minor: int = 0
    currency: str = ""
    reversed_minor: int = 0  # taken back by a reversal (a void), not by a credit memo
    order_external_id: str | None = None
    # (description, amount, recurring) per line, when the ERP's records can tell
    lines: tuple[tuple[str, int, bool], ...] = ()


@dataclass(frozen=True)
class PostedCredit:
    external_id: str  # the billing credit note's id
    amount_minor: int
    currency: str
    invoice_external_id: str | None = None
    # What the memo books to contra revenue (Credits & Allowances), where the ERP's books are
    # read line by line (NetSuite, Sage Intacct); None where the audit reads the general ledger.
    contra_minor: int | None = None


# closebot's journal entry in NetSuite or Sage Intacct reversing the revenue a void took back:
# this, then the void's closure key (`<invoice>:void`).
REVERSAL = "closebot-reversal-"


@dataclass(frozen=True)
class SubledgerVoid:
    """A void closebot's revenue subledger followed (so the ERP had accepted it), and the
    reversal it owes the ERP: the revenue its entry debits there, of which `bad_debt_minor`
    came back from a write-off's bad debt first (`sync/ledger/erp_reversals.py`)."""

    invoice: str  # the billing invoice id
    key: str  # the closure's, `<invoice>:void`
    currency: str
    revenue_minor: int
    bad_debt_minor: int

    @property
    def reversal_id(self) -> str:
        return f"{REVERSAL}{self.key}"


@dataclass(frozen=True)
class PostedReversal:
    """closebot's journal entry in NetSuite or Sage Intacct taking back the revenue a void
    reversed (`closebot-reversal-<invoice>:void`, `sync/ledger/erp_reversals.py`)."""

    external_id: str
    currency: str
    revenue_minor: int  # what it debits to the revenue accounts, net


@dataclass(frozen=True)
class PostedOrder:
    external_id: str  # `opportunity:vN`, one per contract version
    currency: str
    total_minor: int


@dataclass(frozen=True)
class ScheduledObligation:
    """A sales order line and its revenue schedule: (recognize on, amount, posted) per period."""

    order_external_id: str
    line_external_id: str
    product: str
    recurring: bool
    price_minor: int  # its allocated price: what the schedule recognizes
    currency: str
    schedule: tuple[tuple[date, int, bool], ...]
    contract_minor: int | None = None  # the price its invoices bill, when allocation moved it


@dataclass(frozen=True)
class Posting:
    """General-ledger lines of one entry on one account, traced to the record that caused them.

    `role`: receivable, deferred_revenue, revenue, contra_revenue, or another account's kind.
    `amount_minor` is debit-positive. `source` names the entry's kind (invoice, payment,
    credit_memo, revenue, reversal, …) and `source_ref` that record's external id.
    """

    role: str
    currency: str
    amount_minor: int
    posted_on: date
    source: str
    source_ref: str
    invoice_external_id: str | None = None
    order_external_id: str | None = None
    line_external_id: str | None = None


@dataclass(frozen=True)
class LedgerBooks:
    obligations: tuple[ScheduledObligation, ...]
    postings: tuple[Posting, ...]
