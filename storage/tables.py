"""closebot's own state: deals, contract versions, ID links, the work queue, cursors, runs,
exceptions, approvals and the append-only audit log. Money is integer minor units + currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base
from storage.timeutil import utcnow

Json = JSON


class Deal(Base):
    """The latest intake of one closed-won opportunity and where it stands."""

    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_name", "name"),)

    opportunity_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[str | None] = mapped_column(String(32), index=True)
    account_name: Mapped[str | None] = mapped_column(String(255), index=True)
    owner_email: Mapped[str | None] = mapped_column(String(255))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    # pending | synced | exception | awaiting_approval | rejected
    status: Mapped[str] = mapped_column(String(24), index=True)
    current_version: Mapped[int | None] = mapped_column(Integer)
    source_hash: Mapped[str] = mapped_column(String(64))
    modstamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raw: Mapped[dict[str, Any]] = mapped_column(Json)
    message: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ContractVersion(Base):
    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("opportunity_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(ForeignKey("deals.opportunity_id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    terms_hash: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    # Lets the unit of work insert a new deal before its first contract version.
    deal: Mapped[Deal] = relationship(lazy="raise")
    # Set when this version amended an already-billed one: the change order's basis.
    amends_version: Mapped[int | None] = mapped_column(Integer)
    effective_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdLink(Base):
    """One record in an external system and the upstream record it belongs to.

    `scope` names the upstream key: `account:<sf id>`, `contract:<opp id>:v<n>`,
    `invoice:<stripe invoice id>`, `payment:<id>`, `credit:<id>`.
    """

    __tablename__ = "id_links"
    # An external record may serve several scopes (an amended contract keeps its subscription);
    # a scope never has two records of one kind. Duplicates across scopes are the audit's job.
    __table_args__ = (
        UniqueConstraint("scope", "system", "kind"),
        Index("ix_id_links_external", "system", "kind", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(120), index=True)
    system: Mapped[str] = mapped_column(String(24))  # stripe | ledger | netsuite | salesforce
    kind: Mapped[str] = mapped_column(String(32))  # customer | subscription | sales_order…
    external_id: Mapped[str] = mapped_column(String(120))
    opportunity_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkItem(Base):
    """One step of one contract version: its effect happens at most once."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "contract_version", "step"),
        Index("ix_work_items_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(32), index=True)
    contract_version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(24))  # bill | post | writeback
    status: Mapped[str] = mapped_column(String(16))  # pending|running|done|exception|held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    rerun: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Cursor(Base):
    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(48), index=True)
    system: Mapped[str | None] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|failed
    counts: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class SyncException(Base):
    """A deal or step that needs a person: the reason is written for finance, not engineers."""

    __tablename__ = "exceptions"
    __table_args__ = (Index("ix_exceptions_open", "status", "opportunity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[str | None] = mapped_column(String(32), index=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    kind: Mapped[str] = mapped_column(String(32))  # validation | bill | post | writeback | …
    system: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(Json, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|resolved|dismissed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    alert_channel: Mapped[str | None] = mapped_column(String(32))
    alert_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)


class Approval(Base):
    """A non-standard billing event waiting for a person. One decision, enforced by `version`."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("subject", "contract_version", "kind"),
        Index("ix_approvals_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # discount | terms | amendment | credit | flagged | close (a month-end close)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(120))  # opportunity id, or invoice id for credits
    opportunity_id: Mapped[str | None] = mapped_column(String(32), index=True)
    contract_version: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str | None] = mapped_column(String(255))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected
    version: Mapped[int] = mapped_column(Integer, default=1)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only: who did what to which record, with before/after values."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "closebot" or a Slack user id
    action: Mapped[str] = mapped_column(String(48))
    opportunity_id: Mapped[str | None] = mapped_column(String(32), index=True)
    subject: Mapped[str | None] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class BillingInvoice(Base):
    """closebot's mirror of a billing-system invoice, for status write-backs and lookups."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_customer_name", "customer_name_key"),
        Index("ix_invoices_opportunity", "opportunity_id"),
    )

    billing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    opportunity_id: Mapped[str | None] = mapped_column(String(32))
    contract_version: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[str | None] = mapped_column(String(32), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(255))
    customer_name_key: Mapped[str | None] = mapped_column(String(255))  # lower-cased, for search
    billing_customer_id: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_remaining_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Paid beyond the invoice (Stripe credits it to the customer), and the customer's credit
    # Stripe used on it when finalizing it.
    amount_overpaid_minor: Mapped[int] = mapped_column(BigInteger, default=0,
                                                       server_default="0")
    credit_applied_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it was voided or marked uncollectible.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erp_invoice_id: Mapped[str | None] = mapped_column(String(64))
    erp_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class StandaloneSellingPrice(Base):
    """A product's standalone selling price (ASC 606) in one currency: per unit, and per month of
    service for a recurring product; a point when low equals high. Set with `closebot ssp set`."""

    __tablename__ = "standalone_selling_prices"

    product: Mapped[str] = mapped_column(String(255), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    low_minor: Mapped[int] = mapped_column(BigInteger)
    high_minor: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
