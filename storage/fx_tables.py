"""Exchange rates and the functional-currency side of ledger entries.

`fx_rates` holds one rate per (day, base, quote): 1 unit of `base` = `rate` units of `quote`
(the ECB's reference rates are base EUR). Rates are exact decimals, never floats.
`ledger_functional_lines` carries each journal entry in the functional currency: the entry's
own lines stay in the transaction currency; these are the same legs converted (and, on a
settlement at another rate than the invoice's, a realized FX gain or loss leg), balanced per
entry. Written only when a functional currency is configured.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

Id = BigInteger().with_variant(Integer(), "sqlite")
Rate = Numeric(24, 12)


class FxRate(Base):
    __tablename__ = "fx_rates"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    on_date: Mapped[date] = mapped_column(Date)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Rate)
    source: Mapped[str] = mapped_column(String(255))  # the file it was imported from
    __table_args__ = (
        UniqueConstraint("base", "quote", "on_date"),
        CheckConstraint("rate > 0", name="rate"),
    )


class LedgerFunctionalLine(Base):
    __tablename__ = "ledger_functional_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal_entries.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    account_code: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"), index=True)
    debit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))  # the functional currency
    # Functional units per transaction unit applied to this leg (1 for a realized FX leg).
    rate: Mapped[Decimal] = mapped_column(Rate)
    __table_args__ = (
        CheckConstraint(
            "(debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0)",
            name="one_side",
        ),
    )
