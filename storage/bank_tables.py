"""Bank statement lines, stored by a stable key so a re-import adds nothing, each matched to at
most one Stripe payout (a unique payout column: a payout can't be matched twice either)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base
from storage.timeutil import utcnow


class BankLineRow(Base):
    __tablename__ = "bank_lines"
    __table_args__ = (Index("ix_bank_lines_open", "payout_id", "currency", "amount_minor"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    posted_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payout_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    matched_how: Mapped[str | None] = mapped_column(String(24))
    matched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
