"""The small capability protocols the engine needs from each external system.

Each connector under `sync/connectors/` implements one of these and is the only place that
imports its vendor's SDK. Every create is idempotent: it carries an idempotency key or an
external ID derived from (opportunity, contract version, step), so a retry finds instead of creates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sync.model import (
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceClosure,
    Obligation,
    Payment,
)
from sync.ports_books import (  # noqa: F401 - the read models, re-exported
    BilledCredit,
    BilledInvoice,
    BilledItem,
    BilledLine,
    BilledSubscription,
    BillingBooks,
    LedgerBooks,
    PostedCredit,
    PostedInvoice,
    PostedOrder,
    PostedReversal,
    Posting,
    ScheduledObligation,
    SubledgerVoid,
)


@dataclass(frozen=True)
class DealRecord:
    """A closed-won opportunity as read from the CRM, before validation (raw field values)."""

    opportunity_id: str
    modstamp: datetime
    fields: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CrmUpdate:
    opportunity_id: str
    fields: dict[str, Any]
    account_id: str | None = None
    account_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    record_id: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class CrmAccount:
    """An account as the CRM holds it: what the go-live import matches other systems to."""

    id: str
    name: str
    email: str | None = None  # the billing email, whose domain is a matching rule


class Crm(Protocol):
    def closed_won_since(self, since: datetime | None) -> Iterator[list[DealRecord]]:
        """Pages of closed-won deals modified at or after `since`, oldest first."""
        ...

    def closed_won(self, opportunity_ids: Sequence[str]) -> list[DealRecord]:
        """These deals, if they are closed-won (read only; for a dry run)."""
        ...

    def accounts(self) -> Iterator[list[CrmAccount]]:
        """Pages of every account (read only; for the go-live import)."""
        ...

    def write_back(self, updates: Sequence[CrmUpdate]) -> list[WriteResult]: ...


@dataclass(frozen=True)
class CrmDealView:
    """A closed-won deal as the CRM shows it now: what it books and what closebot wrote back.

    `ids` holds the IDs written back, by role: `stripe_customer`, `stripe_subscription`,
    `erp_sales_order`. Money is in minor units of `currency`; None where the field is empty.
    """

    opportunity_id: str
    name: str
    account_id: str | None
    currency: str | None
    amount_minor: int | None
    contract_end: date | None
    ids: dict[str, str | None]
    invoice_number: str | None
    invoice_status: str | None
    outstanding_minor: int | None
    sync_status: str | None
    modified_at: datetime | None = None  # when the CRM last changed the record


class CrmBooks(Protocol):
    """What the audit reads back from the CRM."""

    def won_deals(self) -> list[CrmDealView]: ...


@dataclass(frozen=True)
class BillingResult:
    subscription_id: str | None
    invoices: list[Invoice]
    effective_on: date | None = None  # when an amendment's new prices start


class BillingEvent(Protocol):
    """One event of the billing system: only a hint that an object changed."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def created(self) -> int: ...

    @property
    def object_id(self) -> str: ...

    @property
    def is_invoice(self) -> bool: ...

    def invoice(self) -> Invoice:
        """The invoice as the event saw it (only for invoice events)."""
        ...

    def paid_by(self) -> tuple[str, str] | None:
        """(payment, invoice) when the event says a payment paid an invoice, else None."""
        ...


@dataclass(frozen=True)
class BillingCustomer:
    id: str
    name: str | None
    email: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BillingSubscription:
    id: str
    customer_id: str
    status: str
    currency: str
    period_minor: int  # what one billing period of it costs
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    events: Sequence[BillingEvent]  # newest first, as the billing system lists them
    has_more: bool


class Billing(Protocol):
    def ensure_customer(self, customer: Customer, *, key: str, lookup: bool) -> str:
        """Return the billing customer for this CRM account, creating it at most once."""
        ...

    def ensure_contract(
        self, contract: Contract, *, customer_id: str, key: str, lookup: bool
    ) -> BillingResult:
        """Create the subscription / one-time invoice for a contract version, at most once."""
        ...

    def amend_contract(
        self,
        contract: Contract,
        *,
        subscription_id: str,
        new_fees: Sequence[Obligation],
        key: str,
        effective: date,
    ) -> BillingResult:
        """Move an existing subscription to this version's prices on `effective`, billing the
        prorated difference for the rest of the current period at once."""
        ...

    def renew_contract(
        self, contract: Contract, *, subscription_id: str, key: str
    ) -> BillingResult:
        """Continue the renewed deal's subscription with this contract's prices from its start
        to its end (a new phase: no second subscription, no gap, no overlap), at most once."""
        ...

    def cancel_contract(
        self, contract: Contract, *, subscription_id: str, key: str
    ) -> BillingResult:
        """End the subscription after the contract's last day of service (`canceled_on`),
        with nothing prorated; `effective_on` is the first day without service."""
        ...

    def subscription(self, subscription_id: str) -> BillingResult:
        """An existing subscription with its latest invoice, read only; `effective_on` is the end
        of its current period (when a change of prices would start)."""
        ...

    def invoice(self, invoice_id: str) -> Invoice: ...

    def customers(self) -> Iterator[list[BillingCustomer]]:
        """Pages of every billing customer (read only; for the go-live import)."""
        ...

    def subscriptions(self) -> Iterator[list[BillingSubscription]]:
        """Pages of every subscription that is not ended (read only)."""
        ...

    def open_invoices(self) -> Iterator[list[Invoice]]:
        """Pages of every open invoice (read only)."""
        ...

    def payments_for(self, invoice: Invoice) -> list[Payment]: ...

    def credit_invoice(
        self, invoice_id: str, *, amount_minor: int, reason: str, key: str, lookup: bool = False
    ) -> CreditNote:
        """A credit note on the invoice, at most once per key; with `lookup`, an earlier note
        made under this key is returned instead of a new one."""
        ...

    def events(self, *, created_gte: int | None, starting_after: str | None = None) -> EventPage:
        """One page of events, newest first."""
        ...

    def books(self) -> BillingBooks:
        """Everything billed, for the audit: read in pages of 100, never per invoice."""
        ...


class Erp(Protocol):
    """An accounting system. Every method upserts by the external ID it is given."""

    name: str

    def upsert_customer(self, customer: Customer, *, currency: str) -> str: ...

    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str: ...

    def post_invoice(
        self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
    ) -> str: ...

    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str: ...

    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str: ...

    def close_invoice(self, closure: InvoiceClosure, *, invoice_id: str) -> str:
        """Take a voided or written-off invoice's open balance back out, once per closure key
        (`<invoice>:void`, `<invoice>:uncollectible`)."""
        ...


    def customers(self) -> Iterator[list[ErpCustomer]]:
        """Pages of every customer in the ERP (read only; for the go-live import)."""
        ...

    def open_invoices(self) -> Iterator[list[ErpInvoice]]:
        """Pages of every invoice with something still receivable (read only)."""
        ...


@dataclass(frozen=True)
class ErpCustomer:
    id: str  # what the Erp port's other methods take as `customer_id`
    name: str
    email: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class ErpInvoice:
    id: str  # what the Erp port's other methods take as `invoice_id`
    number: str | None
    customer_id: str
    currency: str
    total_minor: int
    open_minor: int
    external_id: str | None = None
    due_on: date | None = None  # for aging; None when the ERP gives none


class ErpBooks(Protocol):
    """What the audit reads back from an ERP."""

    def posted_invoices(self) -> list[PostedInvoice]: ...

    def posted_credits(self) -> list[PostedCredit]: ...

    def sales_orders(self) -> list[PostedOrder]: ...

    def ledger_books(self) -> LedgerBooks | None:
        """Obligations, schedules and general-ledger postings; None when the ERP's records
        can't be read at that depth (what the audit then could not check, it says)."""
        ...

    def revenue_reversals(self) -> list[PostedReversal]:
        """closebot's void reversal entries; none on the ledger, whose void books its reversal in
        its own entry (read with its general ledger)."""
        ...

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        """(record type, external id) held by more than one record."""
        ...

    def unbalanced_entries(self) -> list[str]: ...


@dataclass(frozen=True)
class Check:
    """One finding of `closebot doctor`: what was checked against the real system and, when it
    failed, what to fix and where, in words an admin acts on. Never carries a secret."""

    system: str  # "Salesforce", "Stripe", "NetSuite", "Slack", "database", "ledger"
    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"✓ {self.system}: {self.what}"
        return f"✗ {self.system}: {self.what}" + (f" — {self.fix}" if self.fix else "")

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "ok": self.ok, "what": self.what, "fix": self.fix}

