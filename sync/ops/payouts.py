"""`/payout <id or date>`: a Stripe payout's breakdown (gross, refunds, fees, disputes, net) and
whether the bank statements show it, read from Stripe through the `Payouts` port and from the
stored bank lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.bank_tables import BankLineRow
from sync.ports_bank import BANK_LATE_DAYS, NOT_ARRIVING, Payout, PayoutBreakdown, Payouts

MATCHED, WAITING, MISSING, NOT_DUE = "matched", "waiting", "missing", "not_arriving"


@dataclass(frozen=True)
class BankStatus:
    state: str  # matched | waiting | missing | not_arriving
    line_key: str | None = None
    posted_on: date | None = None
    how: str | None = None
    covered_through: date | None = None


@dataclass(frozen=True)
class PayoutView:
    payout: Payout
    breakdown: PayoutBreakdown
    bank: BankStatus

    @property
    def adds_up(self) -> bool:
        return self.breakdown.net_minor == self.payout.amount_minor


@dataclass(frozen=True)
class PayoutAnswer:
    query: str
    found: list[PayoutView]


def find_payouts(sessions: sessionmaker[Session], payouts: Payouts, query: str) -> PayoutAnswer:
    """A payout ID (`po_…`), or a date (YYYY-MM-DD): the payouts arriving that day."""
    text = query.strip()
    if text.startswith("po_"):
        one = payouts.payout(text)
        listed = [one] if one is not None else []
    else:
        day = date.fromisoformat(text)  # the caller turns a ValueError into usage
        listed = [p for page in payouts.payouts(arriving_from=day, arriving_to=day)
                  for p in page]
    with sessions() as session:
        covered = session.scalar(select(BankLineRow.posted_on).order_by(
            BankLineRow.posted_on.desc()).limit(1))
        views = [PayoutView(p, payouts.breakdown(p), _status(session, p, covered))
                 for p in listed[:10]]
    return PayoutAnswer(query=text, found=views)


def _status(session: Session, payout: Payout, covered: date | None) -> BankStatus:
    row = session.scalar(select(BankLineRow).where(BankLineRow.payout_id == payout.id))
    if row is not None:
        return BankStatus(MATCHED, line_key=row.key, posted_on=row.posted_on,
                          how=row.matched_how, covered_through=covered)
    if payout.status in NOT_ARRIVING:
        return BankStatus(NOT_DUE, covered_through=covered)
    overdue = covered is not None and (covered - payout.arrival_date).days >= BANK_LATE_DAYS
    return BankStatus(MISSING if overdue else WAITING, covered_through=covered)
