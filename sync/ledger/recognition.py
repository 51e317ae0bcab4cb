"""The ledger's revenue schedules: stored with each sales order line (planned by `sync.revenue`),
posted as Dr Deferred Revenue / Cr revenue when due."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, insert, or_, select
from sqlalchemy.orm import Session

from storage.bulk import insert_rows, update_by_id
from storage.ledger import (
    LedgerInvoice,
    LedgerInvoiceLine,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from storage.ledger_batch import checked_as_a_batch
from sync.ledger import fx, fx_releases, periods
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.journal import Leg, check_balanced, is_minor, next_numbers
from sync.revenue.delivery import AWAITING
from sync.revenue.schedule import plan

CHUNK = 2_000  # due rows posted per batch: memory stays flat whatever the book's size


def schedule_rows(line: LedgerSalesOrderLine, currency: str, *, awaiting: bool = False,
                  milestones: Sequence[Decimal] = ()) -> list[dict[str, Any]]:
    """The line's revenue schedule as rows to insert (one executemany for all of them); a
    point-in-time line `awaiting` its delivery is planned for no day yet (`AWAITING`), as is
    each milestone of a milestone line."""
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
                milestones=milestones,
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
    due = _due().where(
        schedule.recognize_on <= through,
        schedule.journal_entry_id.is_(None),
        # A voided or written-off invoice stopped these: never recognized.
        schedule.stopped_by_id.is_(None),
        # A row a credit took to zero (a cancellation's months) has nothing to recognize.
        schedule.amount_minor != 0,
    ).with_for_update(skip_locked=True, of=schedule)
    lock = periods.closed_through(session)
    functional = fx.functional_currency(session)
    # One for the whole run: what each invoice has released so far carries across chunks.
    release_rates = fx_releases.ReleaseRates(session, functional) if functional else None
    links: list[tuple[int, int]] = []
    session.flush()
    with checked_as_a_batch(session):
        # One query, read a chunk at a time: a close of 100,000 contracts posts 200,000
        # entries, and holding them all at once took 650 MB.
        result = session.connection().execute(due.execution_options(yield_per=CHUNK))
        try:
            for rows in result.partitions():
                links += _post_due(session, rows, lock, release_rates)
        finally:
            result.close()  # no read left open when the batch is checked or rolled back
    _link(session, links)
    return len(links)


def recognize_billed(session: Session, *, invoice_external_id: str, through: date) -> int:
    """Post the rows the invoice's lines bill (for a recurring line, those recognized within
    its billing period, as a closure reads them) that came due by `through` and are not
    recognized yet; returns the count. The revenue subledger releases rows at close only, so a
    write-off after a month's end and before its close runs this first: revenue earned before
    the write-off stays revenue, as on the ledger, whose revenue job has posted it."""
    schedule, line = LedgerRevenueSchedule, LedgerInvoiceLine
    billed = (select(schedule.id)
              .join(line, line.sales_order_line_id == schedule.sales_order_line_id)
              .join(LedgerInvoice, LedgerInvoice.id == line.invoice_id)
              .where(LedgerInvoice.external_id == invoice_external_id,
                     schedule.recognize_on <= through, schedule.journal_entry_id.is_(None),
                     schedule.stopped_by_id.is_(None), schedule.amount_minor != 0,
                     or_(~line.recurring, line.period_start.is_(None),
                         line.period_end.is_(None),
                         and_(schedule.recognize_on >= line.period_start,
                              schedule.recognize_on < line.period_end))))
    ids = sorted(set(session.scalars(billed.with_for_update())))
    if ids:
        functional = fx.functional_currency(session)
        rates = fx_releases.ReleaseRates(session, functional) if functional else None
        rows = session.connection().execute(_due().where(schedule.id.in_(ids))).all()
        with checked_as_a_batch(session):
            links = _post_due(session, rows, periods.closed_through(session), rates)
        _link(session, links)
    return len(ids)


def _due() -> Select[Any]:
    """Each schedule row with what its entry names: the row, its obligation, its order."""
    schedule = LedgerRevenueSchedule
    return (
        select(schedule.id, schedule.period_no, schedule.recognize_on, schedule.amount_minor,
               schedule.currency, schedule.revenue_account, LedgerSalesOrderLine.external_id,
               LedgerSalesOrder.external_id, LedgerSalesOrder.number, LedgerSalesOrder.id)
        .join(LedgerSalesOrderLine, schedule.sales_order_line_id == LedgerSalesOrderLine.id)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .order_by(schedule.recognize_on, schedule.id)
    )


def _link(session: Session, links: list[tuple[int, int]]) -> None:
    """Each row to its entry, once the entries are in (the key is checked), after the batch
    (its savepoint would copy every schedule page the update touched), in row order (a
    contract's rows share a page)."""
    links.sort(key=lambda link: link[1])
    for first in range(0, len(links), CHUNK):
        update_by_id(session, LedgerRevenueSchedule.__table__, "journal_entry_id",
                     links[first:first + CHUNK])
    session.flush()


def _post_due(session: Session, due: Sequence[Row[Any]], lock: date | None,
              release_rates: fx_releases.ReleaseRates | None) -> list[tuple[int, int]]:
    """Post the rows' entries (plain rows, not ORM objects: building and flushing an object per
    row was most of a close's time); returns (entry, row) pairs for the caller to link."""
    # One statement for the lines, one for the entries: a close posts one entry per due row.
    # Each entry is what `post_entry` would write (lines before entries, so the balance check
    # sees them), its day moved past any closed period the same way.
    # Tuples straight to the driver (`storage.bulk`): SQLAlchemy's per-row parameter
    # processing was a third of a 100,000-contract close.
    day = _day_for(session)
    numbers = next_numbers(session, LedgerJournalEntry.__tablename__, len(due))
    lines: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    functional_rows: list[dict[str, Any]] = []
    moved: dict[date, tuple[date, str]] = {}
    functional = fx.functional_currency(session)
    if release_rates is not None:
        release_rates.prefetch([row[-1] for row in due], {row[-1]: row[4] for row in due})
    for (row_id, period_no, recognize_on, amount, currency, account, line_external_id,
         order_external_id, order_number, order_id), (entry_id, number) in zip(
            due, numbers, strict=True):
        # Both legs are the row's amount, so the entry balances when the amount is a non-zero
        # integer (what `check_balanced` would say of the two legs). A negative catch-up
        # lowers revenue: Dr revenue / Cr Deferred Revenue, the same lines the other way round.
        if not (is_minor(amount) and amount != 0):
            check_balanced([Leg(DEFERRED_REVENUE, debit=amount), Leg(account, credit=amount)])
        if recognize_on not in moved:  # a few days per chunk, 2,000 rows
            moved[recognize_on] = periods.posting_day_after(lock, recognize_on)
        posted_on, note = moved[recognize_on]
        size = abs(amount)
        debit, credit = (DEFERRED_REVENUE, account) if amount > 0 else (account, DEFERRED_REVENUE)
        lines += [(entry_id, 1, debit, size, 0, currency),
                  (entry_id, 2, credit, 0, size, currency)]
        entries.append((entry_id, number, f"revrec:{order_external_id}:{line_external_id}:"
                        f"{period_no}", f"{order_number} {line_external_id} period "
                        f"{period_no}{note}"[:500], day(posted_on), currency, size,
                        "revenue_schedule", str(row_id), None))
        links.append((entry_id, row_id))
        if release_rates is not None and functional is not None:
            legs = release_rates.legs(order_id, currency, recognize_on, amount, account)
            functional_rows += fx.functional_rows(entry_id, legs, functional)
    insert_rows(session, LedgerJournalLine.__table__, _LINE_COLUMNS, lines)
    insert_rows(session, LedgerJournalEntry.__table__, _ENTRY_COLUMNS, entries)
    if functional_rows:
        session.execute(insert(fx.LedgerFunctionalLine.__table__), functional_rows)
    return links


_LINE_COLUMNS = ("entry_id", "line_no", "account_code", "debit_minor", "credit_minor",
                 "currency")
_ENTRY_COLUMNS = ("id", "number", "external_id", "memo", "posted_on", "currency", "total_minor",
                  "source_type", "source_ref", "reverses_id")


def _day_for(session: Session) -> Callable[[date], Any]:
    """A date as the driver stores it: SQLite keeps ISO text, as SQLAlchemy writes it there."""
    if session.connection().dialect.name == "sqlite":
        return date.isoformat
    return lambda day: day
