"""The canonical, vendor-neutral model. Connectors translate to and from it; nothing here knows a
vendor's field names. Money is integer minor units beside its ISO currency."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "annual": 12}[self.value]


class Recognition(StrEnum):
    RATABLE = "ratable"  # over the service period (subscriptions)
    POINT_IN_TIME = "point_in_time"  # on delivery (implementation, one-time services)
    MILESTONE = "milestone"  # percent complete: each milestone's share as it is reached


class PricingModel(StrEnum):
    FLAT = "flat"
    PER_SEAT = "per_seat"


def term_months(start: date, end: date) -> int:
    """Whole months from `start` to the inclusive `end`, a started month counting as one."""
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    return months + (1 if after.day > start.day else 0)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(Frozen):
    crm_account_id: str
    name: str
    email: str | None = None


class Obligation(Frozen):
    """One performance obligation: a distinct deliverable with its own price and recognition."""

    line_id: str
    product: str
    recurring: bool
    pricing: PricingModel
    quantity: int
    list_unit_minor: int  # list price per unit (per billing period when recurring)
    unit_minor: int  # price per unit after discount (per billing period when recurring)
    discount_pct: Decimal = Decimal(0)
    amount_minor: int  # contract value of the line over the whole term
    periods: int = 1  # billing periods in the term (1 for one-time)
    service_start: date
    service_end: date
    recognition: Recognition
    # Its share of the transaction price by relative standalone selling price, when that
    # differs from its contract price (sync.revenue.allocation); None: the contract price.
    allocated_minor: int | None = None
    # A MILESTONE obligation's milestones, each its percentage of the whole (they add to 100).
    milestones: tuple[Decimal, ...] = ()
    # The day the CRM says a point-in-time obligation was delivered (Delivered On), if given.
    delivered_on: date | None = None

    @property
    def period_amount_minor(self) -> int:
        return self.unit_minor * self.quantity

    @property
    def revenue_minor(self) -> int:
        """What the obligation recognizes over its life: its allocated price."""
        return self.amount_minor if self.allocated_minor is None else self.allocated_minor


class BillingPlan(Frozen):
    cadence: Cadence
    start: date
    end: date
    payment_terms_days: int
    currency: str  # ISO 4217, upper case

    @property
    def term_months(self) -> int:
        return term_months(self.start, self.end)


class Contract(Frozen):
    """One version of a deal's contract. A change in Salesforce makes a new version."""

    opportunity_id: str
    version: int = 1
    name: str
    customer: Customer
    owner_email: str | None = None
    billing: BillingPlan
    obligations: tuple[Obligation, ...]
    total_minor: int
    # The last day of service after an early cancellation (inclusive), if cancelled.
    canceled_on: date | None = None
    # The legal entity that sells it (sync/contracts/entities.py), when several are configured.
    entity: str | None = None

    @property
    def currency(self) -> str:
        return self.billing.currency

    @property
    def order_key(self) -> str:
        """This version's external ID in any ERP: one sales order per contract version."""
        return f"{self.opportunity_id}:v{self.version}"

    @property
    def recurring(self) -> tuple[Obligation, ...]:
        return tuple(o for o in self.obligations if o.recurring)

    @property
    def one_time(self) -> tuple[Obligation, ...]:
        return tuple(o for o in self.obligations if not o.recurring)

    def terms_hash(self) -> str:
        """Fingerprint of the commercial terms, ignoring the version number."""
        # A contract never cancelled hashes as it did before cancellations were known.
        body = self.model_dump(mode="json", exclude={"version"} | (
            set() if self.canceled_on else {"canceled_on"}) | (
            set() if self.entity else {"entity"}))
        for obligation in body["obligations"]:
            # Unallocated contracts keep the fingerprint they had before allocation existed.
            if obligation.get("allocated_minor") is None:
                obligation.pop("allocated_minor", None)
            # Likewise deals without milestones or a delivery date from the CRM.
            if not obligation.get("milestones"):
                obligation.pop("milestones", None)
            if obligation.get("delivered_on") is None:
                obligation.pop("delivered_on", None)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


class InvoiceLine(Frozen):
    description: str
    amount_minor: int  # excluding tax, also when the biller's price included it
    recurring: bool
    period_start: date | None = None
    period_end: date | None = None  # exclusive: the day the next period starts
    tax_minor: int = 0  # sales tax / VAT on this line, owed to a tax authority
    product: str | None = None  # the product the line bills, by name, when the biller says
    obligation_id: str | None = None  # the contract line (obligation) it bills, once matched


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class Invoice(Frozen):
    billing_id: str
    number: str | None
    billing_customer_id: str
    subscription_id: str | None = None
    opportunity_id: str | None = None
    contract_version: int | None = None
    currency: str
    total_minor: int
    amount_due_minor: int
    amount_paid_minor: int
    amount_remaining_minor: int
    status: InvoiceStatus
    issued_on: date | None = None
    # Paid beyond what was due, which the billing system keeps as the customer's credit
    # (`amount_paid_minor` is only what settled the invoice).
    amount_overpaid_minor: int = 0
    # The customer's credit the billing system used to settle part of this invoice when it
    # was finalized, so less was due than its total.
    credit_applied_minor: int = 0
    due_on: date | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None  # when it was voided or marked uncollectible
    lines: tuple[InvoiceLine, ...] = ()
    raw: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @property
    def tax_minor(self) -> int:
        return sum(line.tax_minor for line in self.lines)

    @property
    def unitemized_minor(self) -> int:
        """What the total holds beyond the lines and their tax (a discount, a manual change)."""
        return self.total_minor - sum(ln.amount_minor + ln.tax_minor for ln in self.lines)


class Payment(Frozen):
    billing_id: str
    invoice_billing_id: str
    amount_minor: int
    currency: str
    paid_at: datetime


class ClosureKind(StrEnum):
    VOID = "void"  # the invoice should never have been issued
    UNCOLLECTIBLE = "uncollectible"  # owed, but no longer expected to be paid


class ClosureLine(Frozen):
    """One revenue line of a closed invoice and how much of it was earned when it closed."""

    description: str
    recurring: bool
    amount_minor: int
    earned_minor: int  # recognized by the closing date, per the obligation's revenue plan


class InvoiceClosure(Frozen):
    """A billing invoice voided or written off: what the ERP must take back out of its books."""

    invoice_billing_id: str
    kind: ClosureKind
    currency: str
    closed_on: date
    lines: tuple[ClosureLine, ...] = ()
    tax_minor: int = 0

    @property
    def key(self) -> str:
        """The closure's external ID in any ERP: one per invoice and kind."""
        return f"{self.invoice_billing_id}:{self.kind.value}"


class CreditNote(Frozen):
    billing_id: str
    invoice_billing_id: str
    amount_minor: int
    currency: str
    reason: str
    created_at: datetime
    # The credited invoice's revenue lines and what each had earned on `created_at`, for ERPs
    # that keep their own revenue schedules (NetSuite); empty when not worked out.
    lines: tuple[ClosureLine, ...] = ()

    @property
    def unearned_minor(self) -> int:
        """The part of the credit taken from deferred revenue: what its lines had not earned
        yet; the rest is contra revenue (docs/architecture.md, "Credits")."""
        return min(self.amount_minor, sum(max(line.amount_minor - line.earned_minor, 0)
                                          for line in self.lines))
