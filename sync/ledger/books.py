"""The books as finance reads them: the trial balance on a date, and one deal's revenue schedule
(its obligations, their allocated prices, each period and what is recognized or still deferred).

A deal's records are found by its sales orders, whose external ID is `<opportunity>:v<version>`
(one per contract version, see `Contract.order_key`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerAccount,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.revenue.delivery import AWAITING


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    debit_minor: int  # the net balance on its side; the other side is 0
    credit_minor: int


@dataclass(frozen=True)
class TrialBalance:
    currency: str
    accounts: list[AccountBalance]

    @property
    def debits(self) -> int:
        return sum(a.debit_minor for a in self.accounts)

    @property
    def credits(self) -> int:
        return sum(a.credit_minor for a in self.accounts)


def trial_balances(session: Session, *, as_of: date) -> list[TrialBalance]:
    """Every account with a balance from entries posted on or before `as_of`, per currency."""
    net = func.sum(LedgerJournalLine.debit_minor - LedgerJournalLine.credit_minor)
    rows = session.execute(
        select(LedgerJournalLine.currency, LedgerJournalLine.account_code, LedgerAccount.name, net)
        .join(LedgerJournalEntry, LedgerJournalEntry.id == LedgerJournalLine.entry_id)
        .join(LedgerAccount, LedgerAccount.code == LedgerJournalLine.account_code)
        .where(LedgerJournalEntry.posted_on <= as_of)
        .group_by(LedgerJournalLine.currency, LedgerJournalLine.account_code, LedgerAccount.name)
        .order_by(LedgerJournalLine.currency, LedgerJournalLine.account_code)
    ).all()
    books: dict[str, list[AccountBalance]] = {}
    for currency, code, name, total in rows:
        total = int(total)
        # An account whose entries cancel out has nothing to show on either side.
        if total:
            books.setdefault(currency, []).append(
                AccountBalance(code, name, max(total, 0), max(-total, 0)))
    return [TrialBalance(currency, accounts) for currency, accounts in books.items()]


@dataclass(frozen=True)
class Period:
    number: int
    start: date
    end: date
    recognize_on: date
    amount_minor: int
    # recognized | due | scheduled | awaiting delivery | stopped (its invoice voided/written off)
    state: str


@dataclass(frozen=True)
class Obligation:
    sales_order: str  # the ledger's number, SO-…
    version: int
    current: bool  # of the deal's latest contract version
    line: str  # the obligation's line id
    description: str
    currency: str
    allocated_minor: int
    recognition: str  # ratable | point_in_time | milestone
    revenue_account: str
    periods: list[Period] = field(default_factory=list)

    def total(self, state: str) -> int:
        return sum(p.amount_minor for p in self.periods if p.state == state)

    @property
    def recognized_minor(self) -> int:
        return self.total("recognized")

    @property
    def deferred_minor(self) -> int:
        """Allocated but not recognized yet (and not taken back by a void or write-off)."""
        return self.allocated_minor - self.recognized_minor - self.total("stopped")


def deal_orders(session: Session, opportunity_id: str) -> list[LedgerSalesOrder]:
    """The deal's sales orders, one per contract version, oldest version first."""
    # LIKE's wildcards can't occur in a Salesforce ID, but the prefix is escaped all the same.
    prefix = opportunity_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    orders = session.scalars(select(LedgerSalesOrder).where(
        LedgerSalesOrder.external_id.like(prefix + ":v%", escape="\\"))).all()
    return sorted(orders, key=version_of)


def version_of(order: LedgerSalesOrder) -> int:
    tail = order.external_id.rpartition(":v")[2]
    return int(tail) if tail.isdigit() else 0


def deal_schedule(session: Session, opportunity_id: str, *, today: date) -> list[Obligation]:
    """Each obligation of each contract version with its periods; `today` tells a period due
    but not posted yet (the revenue job posts it on its next run) from one still ahead."""
    orders = deal_orders(session, opportunity_id)
    latest = max((version_of(o) for o in orders), default=0)
    found: list[Obligation] = []
    for order in orders:
        for line in order.lines:
            rows = session.scalars(select(LedgerRevenueSchedule).where(
                LedgerRevenueSchedule.sales_order_line_id == line.id)
                .order_by(LedgerRevenueSchedule.period_no)).all()
            found.append(Obligation(
                sales_order=order.number, version=version_of(order),
                current=version_of(order) == latest, line=line.external_id,
                description=line.description, currency=order.currency,
                allocated_minor=line.amount_minor, recognition=line.recognition,
                revenue_account=line.revenue_account,
                periods=[_period(row, today) for row in rows]))
    return found


def _period(row: LedgerRevenueSchedule, today: date) -> Period:
    state = ("stopped" if row.stopped_by_id is not None else "recognized" if row.recognized
             else "awaiting delivery" if row.recognize_on == AWAITING
             else "due" if row.recognize_on <= today else "scheduled")
    return Period(row.period_no, row.period_start, row.period_end, row.recognize_on,
                  row.amount_minor, state)


def lines_of(orders: list[LedgerSalesOrder]) -> list[LedgerSalesOrderLine]:
    return [line for order in orders for line in order.lines]
