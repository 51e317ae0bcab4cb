"""Tables behind the Slack surface: the durable outbox and one row per approver decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base
from storage.timeutil import utcnow


class OutboxMessage(Base):
    """One Slack message closebot owns, keyed by what it is about (`alert:exception:12`).

    The row holds the latest wanted content. `revision` counts content changes and
    `sent_revision` the one Slack shows: the first send is `chat.postMessage`, later ones
    `chat.update` on the stored `ts`, so a key is posted once and only ever edited after.
    `status` is pending (wants a send), sending (claimed until `lease_until`), sent, or dead.
    """

    __tablename__ = "slack_outbox"
    __table_args__ = (
        Index("ix_slack_outbox_due", "status", "next_attempt_at"),
        Index("ix_slack_outbox_ref", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str | None] = mapped_column(String(64))  # where to post (name, C…, U…)
    email: Mapped[str | None] = mapped_column(String(255))  # a DM to whoever has this email
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ref: Mapped[str | None] = mapped_column(String(64))  # exception:12 | approval:3 | group:…
    state: Mapped[str | None] = mapped_column(String(24))  # what the content shows: open|resolved
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    sent_revision: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_channel: Mapped[str | None] = mapped_column(String(32))  # the C…/D… Slack answered
    ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalDecision(Base):
    """Who decided what on an approval; the unique key makes one vote per approver a fact."""

    __tablename__ = "approval_decisions"
    __table_args__ = (UniqueConstraint("approval_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), index=True)
    approver: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(12))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
