"""The ledger's revenue schedules: stored with each sales order line (planned by `sync.revenue`),
posted as Dr Deferred Revenue / Cr revenue when due."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.ledger import fx, fx_releases, periods
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.journal import Leg, check_balanced, next_numbers
from sync.revenue.delivery import AWAITING
from sync.revenue.schedule import plan

CHUNK = 2_000  # due rows posted per batch: memory stays flat whatever the book's size


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
    schedule = LedgerRevenueSchedule
    # The due rows' ids first (locked), then their details a chunk at a time: a close of
    # 100,000 contracts posts 200,000 entries, and holding them all at once took 650 MB.
    ids = list(session.scalars(
        select(schedule.id)
        .where(
            schedule.recognize_on <= through,
            schedule.journal_entry_id.is_(None),
            # A voided or written-off invoice stopped these: never recognized.
            schedule.stopped_by_id.is_(None),
            # A row a credit took to zero (a cancellation's months) has nothing to recognize.
            schedule.amount_minor != 0,
        )
        .order_by(schedule.recognize_on, schedule.id)
        .with_for_update(skip_locked=True)
    ))
    lock = periods.closed_through(session)
    functional = fx.functional_currency(session)
    # One for the whole run: what each invoice has released so far carries across chunks.
    release_rates = fx_releases.ReleaseRates(session, functional) if functional else None
    for first in range(0, len(ids), CHUNK):
        _post_due(session, ids[first:first + CHUNK], lock, release_rates)
    session.flush()
    return len(ids)


def _post_due(session: Session, ids: list[int], lock: date | None,
              release_rates: fx_releases.ReleaseRates | None) -> None:
    # Plain rows, not ORM objects: building and flushing an object per row was most of a
    # close's time.
    schedule = LedgerRevenueSchedule
    due = session.execute(
        select(schedule.id, schedule.period_no, schedule.recognize_on, schedule.amount_minor,
               schedule.currency, schedule.revenue_account, LedgerSalesOrderLine.external_id,
               LedgerSalesOrder.external_id, LedgerSalesOrder.number, LedgerSalesOrder.id)
        .join(LedgerSalesOrderLine, schedule.sales_order_line_id == LedgerSalesOrderLine.id)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .where(schedule.id.in_(ids))
        .order_by(schedule.recognize_on, schedule.id)
    ).all()
    # One executemany for the lines, one for the entries, one for the rows: a close posts one
    # entry per due row. Each entry is what `post_entry` would write (lines before entries, so
    # the balance triggers see them), its day moved past any closed period the same way.
    numbers = next_numbers(session, LedgerJournalEntry.__tablename__, len(due))
    lines: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    functional_rows: list[dict[str, Any]] = []
    functional = fx.functional_currency(session)
    if release_rates is not None:
        release_rates.prefetch([row[-1] for row in due], {row[-1]: row[4] for row in due})
    for (row_id, period_no, recognize_on, amount_minor, currency, account, line_external_id,
         order_external_id, order_number, order_id), (entry_id, number) in zip(
            due, numbers, strict=True):
        posted_on, note = periods.posting_day_after(lock, recognize_on)
        amount = check_balanced([Leg(DEFERRED_REVENUE, debit=amount_minor),
                                 Leg(account, credit=amount_minor)])
        lines += [
            {"entry_id": entry_id, "line_no": 1, "account_code": DEFERRED_REVENUE,
             "debit_minor": amount, "credit_minor": 0, "currency": currency},
            {"entry_id": entry_id, "line_no": 2, "account_code": account,
             "debit_minor": 0, "credit_minor": amount, "currency": currency},
        ]
        entries.append({
            "id": entry_id, "number": number,
            "external_id": f"revrec:{order_external_id}:{line_external_id}:{period_no}",
            "memo": f"{order_number} {line_external_id} period {period_no}{note}"[:500],
            "posted_on": posted_on, "currency": currency, "total_minor": amount,
            "source_type": "revenue_schedule", "source_ref": str(row_id), "reverses_id": None,
        })
        links.append({"row_id": row_id, "entry_id": entry_id})
        if release_rates is not None and functional is not None:
            legs = release_rates.legs(order_id, currency, recognize_on, amount, account)
            functional_rows += fx.functional_rows(entry_id, legs, functional)
    session.execute(insert(LedgerJournalLine.__table__), lines)  # Core: no ORM per row
    session.execute(insert(LedgerJournalEntry.__table__), entries)
    if functional_rows:
        session.execute(insert(fx.LedgerFunctionalLine.__table__), functional_rows)
    # After the entries exist (the key is checked); one executemany by primary key.
    table = schedule.__table__
    session.execute(update(table).where(table.c.id == bindparam("row_id"))
                    .values(journal_entry_id=bindparam("entry_id")), links)
