"""Month-end close on the embedded ledger: post the period's revenue, lock the period, and the
deferred-revenue roll-forward tied to the general ledger.

Per currency, opening + billings - credits - recognized = closing, where billings are invoices
to Deferred Revenue, recognized is the revenue schedules released from it, and credits is every
other movement (credit memos, voids, write-offs, reversals), all dated in the period. Closing is
then compared with the Deferred Revenue balance the trial balance holds on the period's last day.
With a functional currency, the close also revalues the open foreign-currency balances at the
period-end rate (`sync.ledger.fx_revaluation`): every rate is read before anything is posted.
A re-run posts nothing (each schedule row is recognized once) and finds the period closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage import audit
from storage.ledger import (
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerPeriod,
    LedgerRevenueSchedule,
)
from sync.ledger import fx_revaluation
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.errors import LedgerError
from sync.ledger.periods import name_of, parse_period
from sync.ledger.recognition import recognize_due
from sync.ports_revenue import ErpPosting, RevenueDue


@dataclass(frozen=True)
class RollForward:
    currency: str
    opening: int
    billings: int
    credits: int
    recognized: int
    closing: int
    ledger_balance: int  # Deferred Revenue in the trial balance on the period's last day

    @property
    def ties(self) -> bool:
        return self.closing == self.ledger_balance


@dataclass(frozen=True)
class CloseReport:
    period: str
    starts_on: date
    ends_on: date
    posted: int  # revenue entries this run posted
    already_closed: bool
    closed_by: str
    roll_forward: tuple[RollForward, ...]
    erp: str = "ledger"  # the ledger posts its revenue entries itself, none to another ERP
    postings: tuple[ErpPosting, ...] = ()
    revaluation: tuple[fx_revaluation.CurrencyRevaluation, ...] = ()  # unrealized FX, per currency


def close_period(session: Session, *, period: str, by: str, today: date) -> CloseReport:
    start, end = parse_period(period)
    name = name_of(start)
    if end >= today:
        raise LedgerError(f"{name} can't be closed before it has ended: close it from "
                          f"{end + timedelta(days=1):%d %b %Y}")
    row = session.get(LedgerPeriod, name, with_for_update=True)
    existed, posted = row is not None, 0
    if row is None:
        # A missing period-end rate refuses the close before anything is posted.
        remeasured = fx_revaluation.plan(session, end)
        # Revenue first, so it is dated in the period it belongs to, then the lock.
        posted = recognize_due(session, through=end)
        revalued = fx_revaluation.post(session, name, end, remeasured)
        row = LedgerPeriod(period=name, ends_on=end, closed_by=by, closed_at=datetime.now(UTC))
        session.add(row)
        audit.append(session, action="ledger.period_closed", actor=by, subject=f"period:{name}",
                     revenue_entries=posted, fx_revaluations=revalued)
        session.flush()
    return CloseReport(name, start, end, posted, existed, row.closed_by,
                       tuple(roll_forward(session, start, end)),
                       revaluation=tuple(fx_revaluation.summary(session, name)))


def roll_forward(session: Session, start: date, end: date) -> list[RollForward]:
    credit = LedgerJournalLine.credit_minor - LedgerJournalLine.debit_minor
    kind = LedgerJournalEntry.source_type
    rows = session.execute(
        select(
            LedgerJournalLine.currency,
            func.sum(case((LedgerJournalEntry.posted_on < start, credit), else_=0)),
            func.sum(case(((LedgerJournalEntry.posted_on >= start) & (kind == "invoice"),
                           credit), else_=0)),
            func.sum(case(((LedgerJournalEntry.posted_on >= start)
                           & (kind == "revenue_schedule"), -credit), else_=0)),
            func.sum(case(((LedgerJournalEntry.posted_on >= start)
                           & kind.not_in(("invoice", "revenue_schedule")), -credit), else_=0)),
        )
        .join(LedgerJournalEntry, LedgerJournalEntry.id == LedgerJournalLine.entry_id)
        .where(LedgerJournalLine.account_code == DEFERRED_REVENUE,
               LedgerJournalEntry.posted_on <= end)
        .group_by(LedgerJournalLine.currency)
        .order_by(LedgerJournalLine.currency)
    ).all()
    found = []
    for currency, opening, billings, recognized, credits in rows:
        closing = int(opening) + int(billings) - int(credits) - int(recognized)
        found.append(RollForward(currency, int(opening), int(billings), int(credits),
                                 int(recognized), closing, _balance(session, currency, end)))
    return found


def _balance(session: Session, currency: str, end: date) -> int:
    """Deferred Revenue's credit balance on `end`, read the way the trial balance reads it."""
    total = session.scalar(
        select(func.sum(LedgerJournalLine.credit_minor - LedgerJournalLine.debit_minor))
        .join(LedgerJournalEntry, LedgerJournalEntry.id == LedgerJournalLine.entry_id)
        .where(LedgerJournalLine.account_code == DEFERRED_REVENUE,
               LedgerJournalLine.currency == currency, LedgerJournalEntry.posted_on <= end)
    )
    return int(total or 0)


def is_closed(session: Session, period: str) -> bool:
    return session.get(LedgerPeriod, name_of(parse_period(period)[0])) is not None


def revenue_due(session: Session, through: date) -> list[RevenueDue]:
    """What a close through `through` would recognize, per currency (the rows `recognize_due`
    would post)."""
    row = LedgerRevenueSchedule
    found = session.execute(
        select(row.currency, func.sum(row.amount_minor), func.count())
        .where(row.recognize_on <= through, row.journal_entry_id.is_(None),
               row.stopped_by_id.is_(None), row.amount_minor != 0)
        .group_by(row.currency).order_by(row.currency)
    ).all()
    return [RevenueDue(currency, int(total), int(count)) for currency, total, count in found]
