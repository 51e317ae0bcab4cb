"""Tables for running closebot in production: webhook de-duplication and cluster-wide job slots."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base
from storage.timeutil import utcnow


class WebhookEvent(Base):
    """A Stripe event closebot has applied. Stripe delivers at least once, often twice."""

    __tablename__ = "webhook_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobLease(Base):
    """One row per scheduled job: which replica runs it now and which interval slot ran last.

    A replica may run a job only when no other holds an unexpired lease and the current slot
    (`floor(now / interval)`) is newer than `last_slot`, so a job fires once per interval across
    the whole cluster however many replicas tick.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_slot: Mapped[int] = mapped_column(BigInteger, default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CashException(Base):
    """A money movement closebot couldn't book (see `sync.cash`), one row per billing object;
    open until a later run books it, kept for the audit trail after that."""

    __tablename__ = "cash_exceptions"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    payout_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CashFact(Base):
    """What the cash run saw and booked, one row per billing object: a refund or a dispute on a
    deal's invoice (for the CRM write-back), a charge of a billed customer and the payout that
    carried it, a settled payout (for the chain of custody)."""

    __tablename__ = "cash_facts"

    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)  # re_, dp_, ch_, po_…
    kind: Mapped[str] = mapped_column(String(16))  # refund | dispute | payment | payout
    invoice_id: Mapped[str | None] = mapped_column(String(64))
    opportunity_id: Mapped[str | None] = mapped_column(String(32), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payout_id: Mapped[str | None] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))  # a dispute's status; else booked | paid
    occurred_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PaymentInvoice(Base):
    """The invoice each Stripe payment paid, remembered from its `invoice_payment.paid` event: a
    charge hasn't named its invoice since API version 2025-03-31, and a refund or a dispute of
    the payment needs it."""

    __tablename__ = "payment_invoices"

    payment_id: Mapped[str] = mapped_column(String(255), primary_key=True)  # pi_…
    invoice_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
