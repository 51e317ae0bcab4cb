"""Revenue schedules (ASC 606 / IFRS 15): build them from sales order lines, post them when due."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrder, LedgerSalesOrderLine
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.journal import Leg, post_entry
from sync.money import split_evenly


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    recognize_on: date
    amount_minor: int


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Service months from `start` to an inclusive `end`: Jan 1 to Oct 31 is 10, not 9."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, months + (1 if end.day >= start.day else 0))


def plan(*, amount_minor: int, start: date, end: date, recognition: str) -> list[Period]:
    """The recognition periods of one obligation.

    Ratable: one period per service month, amounts from `split_evenly` (so they add back to the
    line exactly), each recognized when its month of service has been delivered (its last day).
    Point in time: one period, recognized on delivery, which is the service start date.
    """
    if recognition == "point_in_time":
        return [Period(start, start, start, amount_minor)]
    count = months_between(start, end)
    periods = []
    for i, amount in enumerate(split_evenly(amount_minor, count)):
        p_start = add_months(start, i)
        p_end = end if i == count - 1 else add_months(start, i + 1) - timedelta(days=1)
        periods.append(Period(p_start, p_end, p_end, amount))
    return periods


def schedule_rows(line: LedgerSalesOrderLine, currency: str) -> list[dict[str, Any]]:
    """The line's revenue schedule as rows to insert (one executemany for all of them)."""
    # A zero row (a free line, or cents spread thin) has nothing to post, so it isn't kept.
    return [
        {
            "sales_order_line_id": line.id,
            "period_no": n,
            "period_start": p.start,
            "period_end": p.end,
            "recognize_on": p.recognize_on,
            "amount_minor": p.amount_minor,
            "currency": currency,
            "revenue_account": line.revenue_account,
        }
        for n, p in enumerate(
            plan(
                amount_minor=line.amount_minor,
                start=line.service_start,
                end=line.service_end,
                recognition=line.recognition,
            ),
            start=1,
        )
        if p.amount_minor
    ]


def recognize_due(session: Session, *, through: date) -> int:
    """Post Dr Deferred Revenue / Cr revenue for each due, unrecognized row; returns the count.

    Rows locked by a concurrent run are skipped (PostgreSQL), and each entry's external id names
    its row, so a row is recognized once however many runs overlap.
    """
    due = session.execute(
        select(LedgerRevenueSchedule, LedgerSalesOrderLine.external_id, LedgerSalesOrder)
        .join(
            LedgerSalesOrderLine,
            LedgerRevenueSchedule.sales_order_line_id == LedgerSalesOrderLine.id,
        )
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .where(
            LedgerRevenueSchedule.recognize_on <= through,
            LedgerRevenueSchedule.journal_entry_id.is_(None),
        )
        .order_by(LedgerRevenueSchedule.recognize_on, LedgerRevenueSchedule.id)
        .with_for_update(of=LedgerRevenueSchedule, skip_locked=True)
    ).all()
    posted = 0
    for row, line_external_id, order in due:
        entry = post_entry(
            session,
            external_id=f"revrec:{order.external_id}:{line_external_id}:{row.period_no}",
            memo=f"{order.number} {line_external_id} period {row.period_no}",
            posted_on=row.recognize_on,
            currency=row.currency,
            source_type="revenue_schedule",
            source_ref=str(row.id),
            legs=[
                Leg(DEFERRED_REVENUE, debit=row.amount_minor),
                Leg(row.revenue_account, credit=row.amount_minor),
            ],
        )
        row.journal_entry_id = entry.id
        posted += 1
    session.flush()
    return posted
