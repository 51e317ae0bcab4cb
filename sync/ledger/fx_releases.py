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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import (
    LedgerInvoice,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrderLine,
)
from sync.ledger import accounts as acct
from sync.ledger.fx import FunctionalLeg, convert, converted_legs
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
        """A negative `amount` (a catch-up lowering revenue) gives the same legs the other way
        round: Dr revenue / Cr Deferred Revenue."""
        deferral = self._deferral(order_id, currency, on)
        if deferral is None:
            rate = rate_on(self._session, currency, self._functional, on)
            legs = converted_legs([Leg(acct.DEFERRED_REVENUE, debit=abs(amount)),
                                   Leg(account, credit=abs(amount))], currency,
                                  self._functional, rate)
            return legs if amount >= 0 else [FunctionalLeg(g.account, g.credit, g.debit, g.rate)
                                             for g in legs]
        before = deferral.released_functional
        deferral.released_minor += amount
        deferral.released_functional = deferral.functional_through(
            deferral.released_minor, currency, self._functional)
        value = deferral.released_functional - before
        return [FunctionalLeg(acct.DEFERRED_REVENUE, max(value, 0), max(-value, 0),
                              deferral.rate),
                FunctionalLeg(account, max(-value, 0), max(value, 0), deferral.rate)]

    def prefetch(self, order_ids: Iterable[int], currency_of: dict[int, str]) -> None:
        """Load the deferrals of these orders at once (a few queries for a page of releases,
        not a few per order)."""
        todo = sorted(set(order_ids) - self._deferrals.keys())
        if not todo:
            return
        session = self._session
        invoices = session.execute(
            select(LedgerInvoice.sales_order_id, LedgerInvoice.issued_on,
                   LedgerInvoice.journal_entry_id)
            .where(LedgerInvoice.sales_order_id.in_(todo))
            .order_by(LedgerInvoice.issued_on.desc(), LedgerInvoice.id.desc())).all()
        entries = [entry_id for _, _, entry_id in invoices if entry_id is not None]
        functional = _booked(session, entries)
        deferred = dict(session.execute(
            select(LedgerJournalLine.entry_id,
                   func.sum(LedgerJournalLine.credit_minor - LedgerJournalLine.debit_minor))
            .where(LedgerJournalLine.entry_id.in_(entries),
                   LedgerJournalLine.account_code == acct.DEFERRED_REVENUE)
            .group_by(LedgerJournalLine.entry_id)).all()) if entries else {}
        for order_id in todo:
            self._deferrals[order_id] = []
        for order_id, issued, entry_id in invoices:
            if entry_id in functional:
                rate, booked = functional[entry_id]
                self._deferrals[order_id].append(
                    Deferral(issued, rate, int(deferred.get(entry_id) or 0), booked))
            else:  # booked before a functional currency was configured: its day's rate
                rate = rate_on(session, currency_of[order_id], self._functional, issued)
                self._deferrals[order_id].append(Deferral(issued, rate, 0, None))
        # What earlier runs released, each under the invoice it was released at. A release
        # posted before a functional currency was configured has no functional line and
        # counts in neither total.
        schedule = LedgerRevenueSchedule
        posted = session.execute(
            select(LedgerSalesOrderLine.sales_order_id, schedule.recognize_on,
                   schedule.amount_minor, schedule.journal_entry_id)
            .join(LedgerSalesOrderLine,
                  LedgerSalesOrderLine.id == schedule.sales_order_line_id)
            .where(LedgerSalesOrderLine.sales_order_id.in_(todo),
                   schedule.journal_entry_id.is_not(None))).all()
        released = _released(session, [entry_id for *_, entry_id in posted])
        for order_id, on, amount, entry_id in posted:
            if entry_id not in released:
                continue
            for deferral in self._deferrals[order_id]:
                if deferral.issued_on <= on:
                    deferral.released_minor += int(amount)
                    deferral.released_functional += released[entry_id]
                    break

    def _deferral(self, order_id: int, currency: str, on: date) -> Deferral | None:
        if order_id not in self._deferrals:
            self.prefetch([order_id], {order_id: currency})
        for deferral in self._deferrals[order_id]:  # latest first
            if deferral.issued_on <= on:
                return deferral
        return None


def _booked(session: Session, entries: list[int]) -> dict[int, tuple[Decimal, int]]:
    """Per invoice entry with functional lines: the rate it was booked at (its first line's)
    and what it credited to Deferred Revenue in the functional currency."""
    found: dict[int, tuple[Decimal, int]] = {}
    if not entries:
        return found
    line = LedgerFunctionalLine
    for entry_id, _, code, debit, credit, rate in session.execute(
            select(line.entry_id, line.line_no, line.account_code, line.debit_minor,
                   line.credit_minor, line.rate)
            .where(line.entry_id.in_(entries)).order_by(line.entry_id, line.line_no)):
        first_rate, booked = found.get(entry_id, (Decimal(rate), 0))
        if code == acct.DEFERRED_REVENUE:
            booked += int(credit) - int(debit)
        found[entry_id] = (first_rate, booked)
    return found


def _released(session: Session, entries: list[int]) -> dict[int, int]:
    """Per release entry with functional lines, what it took out of Deferred Revenue there."""
    line = LedgerFunctionalLine
    found: dict[int, int] = {}
    for first in range(0, len(entries), 5_000):  # bound the IN list
        for entry_id, code, debit, credit in session.execute(
                select(line.entry_id, line.account_code, line.debit_minor, line.credit_minor)
                .where(line.entry_id.in_(entries[first:first + 5_000]))):
            if code == acct.DEFERRED_REVENUE:
                found[entry_id] = found.get(entry_id, 0) + int(debit) - int(credit)
    return found
