"""The ledger's revenue schedules: stored with each sales order line (planned by `sync.revenue`),
posted as Dr Deferred Revenue / Cr revenue when due."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrder, LedgerSalesOrderLine
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.journal import Leg, post_entry
from sync.revenue.delivery import AWAITING
from sync.revenue.schedule import plan


def schedule_rows(line: LedgerSalesOrderLine, currency: str, *, awaiting: bool = False
                  ) -> list[dict[str, Any]]:
    """The line's revenue schedule as rows to insert (one executemany for all of them); a
    point-in-time line `awaiting` its delivery is planned for no day yet (`AWAITING`)."""
    start = AWAITING if awaiting and line.recognition == "point_in_time" else line.service_start
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
                start=start,
                end=max(start, line.service_end),
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
            # A voided or written-off invoice stopped these: never recognized.
            LedgerRevenueSchedule.stopped_by_id.is_(None),
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
