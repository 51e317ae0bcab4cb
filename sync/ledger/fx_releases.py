"""Revenue releases in the functional currency, rounded cumulatively.

A release leaves deferred revenue at the rate of the invoice that deferred it (docs/fx.md). Each
period converted and rounded on its own drifts: EUR 1,000.00 recognized over twelve months
(83.34 four times, 83.33 eight times) at 1.0850 is 4 x 90.42 + 8 x 90.41 = USD 1,084.96 against
the invoice's 1,085.00, and four cents stay in Deferred Revenue for ever. So each release is
what all releases so far under that invoice come to, less what the earlier ones posted: the
invoice's deferred amount in the functional currency in proportion to the transaction amount
released so far, rounded half up. When the invoice is fully recognized its functional deferred
amount is released to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import (
    LedgerInvoice,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrderLine,
)
from sync.ledger import accounts as acct
from sync.ledger.fx import FunctionalLeg, convert, converted_legs, entry_rate
from sync.ledger.fx_rates import rate_on
from sync.ledger.journal import Leg


@dataclass
class Deferral:
    """What one invoice put into Deferred Revenue, in both currencies, and what its releases
    have taken out so far."""

    issued_on: date
    rate: Decimal
    deferred_minor: int  # transaction currency
    deferred_functional: int | None  # None: booked before a functional currency was set
    released_minor: int = 0
    released_functional: int = 0

    def functional_through(self, released_minor: int, currency: str, functional: str) -> int:
        if self.deferred_functional is None or self.deferred_minor <= 0:
            return convert(released_minor, currency, functional, self.rate)
        share = Decimal(self.deferred_functional) * released_minor / self.deferred_minor
        return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class ReleaseRates:
    """The functional legs of each release: at the rate of the order's latest invoice issued on
    or before it (an upfront invoice for the whole term, each month's or year's own invoice when
    billed in periods), cumulatively rounded per invoice; a release before any invoice takes its
    own day's rate, rounded on its own."""

    def __init__(self, session: Session, functional: str) -> None:
        self._session = session
        self._functional = functional
        self._deferrals: dict[int, list[Deferral]] = {}

    def legs(self, order_id: int, currency: str, on: date, amount: int, account: str
             ) -> list[FunctionalLeg]:
        deferral = self._deferral(order_id, currency, on)
        if deferral is None:
            rate = rate_on(self._session, currency, self._functional, on)
            return converted_legs([Leg(acct.DEFERRED_REVENUE, debit=amount),
                                   Leg(account, credit=amount)], currency, self._functional, rate)
        before = deferral.released_functional
        deferral.released_minor += amount
        deferral.released_functional = deferral.functional_through(
            deferral.released_minor, currency, self._functional)
        value = deferral.released_functional - before
        return [FunctionalLeg(acct.DEFERRED_REVENUE, value, 0, deferral.rate),
                FunctionalLeg(account, 0, value, deferral.rate)]

    def _deferral(self, order_id: int, currency: str, on: date) -> Deferral | None:
        if order_id not in self._deferrals:
            self._deferrals[order_id] = self._load(order_id, currency)
        for deferral in self._deferrals[order_id]:  # latest first
            if deferral.issued_on <= on:
                return deferral
        return None

    def _load(self, order_id: int, currency: str) -> list[Deferral]:
        session = self._session
        deferrals: list[Deferral] = []
        for issued, entry_id in session.execute(
                select(LedgerInvoice.issued_on, LedgerInvoice.journal_entry_id)
                .where(LedgerInvoice.sales_order_id == order_id)
                .order_by(LedgerInvoice.issued_on.desc(), LedgerInvoice.id.desc())):
            rate = entry_rate(session, entry_id)
            if rate is None:
                rate = rate_on(session, currency, self._functional, issued)
                deferrals.append(Deferral(issued, rate, 0, None))
                continue
            deferrals.append(Deferral(issued, rate, _deferred(session, LedgerJournalLine,
                                                              entry_id),
                                      _deferred(session, LedgerFunctionalLine, entry_id)))
        # What earlier runs released, each under the invoice it was released at.
        schedule = LedgerRevenueSchedule
        line = LedgerFunctionalLine
        # A release posted before a functional currency was configured has no functional line
        # and counts in neither total.
        for on, amount, released in session.execute(
                select(schedule.recognize_on, schedule.amount_minor,
                       func.sum(line.debit_minor - line.credit_minor))
                .join(LedgerSalesOrderLine,
                      LedgerSalesOrderLine.id == schedule.sales_order_line_id)
                .join(line, and_(line.entry_id == schedule.journal_entry_id,
                                 line.account_code == acct.DEFERRED_REVENUE))
                .where(LedgerSalesOrderLine.sales_order_id == order_id,
                       schedule.journal_entry_id.is_not(None))
                .group_by(schedule.id, schedule.recognize_on, schedule.amount_minor)):
            for deferral in deferrals:
                if deferral.issued_on <= on:
                    deferral.released_minor += int(amount)
                    deferral.released_functional += int(released)
                    break
        return deferrals


def _deferred(session: Session, table: type[LedgerJournalLine] | type[LedgerFunctionalLine],
              entry_id: int | None) -> int:
    """What an invoice's entry credited to Deferred Revenue (net), in that table's currency."""
    return int(session.scalar(
        select(func.coalesce(func.sum(table.credit_minor - table.debit_minor), 0))
        .where(table.entry_id == entry_id, table.account_code == acct.DEFERRED_REVENUE)) or 0)
