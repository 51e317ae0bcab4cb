"""Mark a point-in-time obligation delivered, or undo it before its revenue is recognized.

The obligation's one schedule row moves from `AWAITING` to the delivery day, and the revenue job
recognizes it (Dr Deferred Revenue / Cr revenue) dated that day. Each mark and undo is in the
audit log with who did it. An obligation is named by its deal and product, as people know it.

A milestone obligation (percent complete) has a row per milestone: marking it marks its next
milestone reached on that day, which recognizes that milestone's share; undo takes back the
last one marked while it is not recognized yet.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage import audit
from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrder, LedgerSalesOrderLine
from sync.ledger import periods
from sync.ledger.errors import LedgerError
from sync.ports_revenue import Delivered
from sync.ports_revenue import DeliveryRefused as Refused
from sync.revenue.delivery import AWAITING, delivery_problem

__all__ = ["Delivered", "DeliveryRefused", "deliverables", "mark"]


class DeliveryRefused(LedgerError, Refused):
    """A delivery a person asked for that can't be recorded; the message says why."""


def deliverables(session: Session, opportunity_id: str) -> list[Delivered]:
    """The point-in-time obligations of the deal's latest contract version still to be
    recognized (stopped ones left out): awaiting delivery, or delivered and not posted yet."""
    found = session.execute(_rows(opportunity_id)).all()
    latest = found[0][1].id if found else None
    shown: set[int] = set()
    out: list[Delivered] = []
    for line, order, row in found:
        if order.id != latest or row.journal_entry_id is not None or row.stopped_by_id \
                is not None:
            continue
        # A milestone line shows those reached and not posted yet, then the next to reach.
        if line.recognition == "milestone" and row.recognize_on == AWAITING:
            if line.id in shown:
                continue
            shown.add(line.id)
        out.append(Delivered(line.description, None if row.recognize_on == AWAITING
                             else row.recognize_on, int(row.amount_minor), row.currency,
                             _milestone(session, line, row)))
    return out


def _milestone(session: Session, line: LedgerSalesOrderLine, row: LedgerRevenueSchedule
               ) -> str | None:
    if line.recognition != "milestone":
        return None
    count = session.scalar(select(func.count()).select_from(LedgerRevenueSchedule).where(
        LedgerRevenueSchedule.sales_order_line_id == line.id))
    return f"milestone {row.period_no} of {count}"


def mark(session: Session, *, opportunity_id: str, product: str, on: date | None, by: str,
         today: date, allowed: frozenset[str] = frozenset()) -> Delivered:
    """Deliver `product` of the deal on `on`, or (on=None) undo its delivery."""
    if allowed and by not in allowed:
        raise DeliveryRefused(f"{by} may not mark deliveries: ask one of "
                              f"{', '.join(sorted(allowed))}")
    line, order, row = _obligation(session, opportunity_id, product, marking=on is not None)
    if row.journal_entry_id is not None:
        raise DeliveryRefused(
            f"{product} was recognized on {row.recognize_on:%d %b %Y}: its delivery can't be "
            "changed any more (a credit memo corrects revenue already recognized)")
    if row.stopped_by_id is not None:
        raise DeliveryRefused(f"{product}: its invoice was voided or written off")
    if on is not None:
        start = min(ln.service_start for ln in order.lines)
        problem = delivery_problem(product=product, on=on, contract_start=start, today=today)
        if problem:
            raise DeliveryRefused(problem)
        periods.refuse_closed(session, on, f"{product}'s delivery")
    row.recognize_on = row.period_start = row.period_end = on or AWAITING
    extra = {"milestone": row.period_no} if line.recognition == "milestone" else {}
    audit.append(session, action="revenue.delivered" if on else "revenue.delivery_undone",
                 actor=by, opportunity_id=opportunity_id,
                 subject=f"obligation:{order.external_id}:{line.external_id}",
                 product=product, on=on.isoformat() if on else None, **extra)
    session.flush()
    return Delivered(product, on, int(row.amount_minor), row.currency,
                     _milestone(session, line, row))


def _obligation(session: Session, opportunity_id: str, product: str, *, marking: bool = True
                ) -> tuple[LedgerSalesOrderLine, LedgerSalesOrder, LedgerRevenueSchedule]:
    found = session.execute(
        _rows(opportunity_id).with_for_update(of=LedgerRevenueSchedule)).all()
    named = [f for f in found if f[0].description.casefold() == product.casefold()]
    if not named:
        products = sorted({f[0].description for f in found})
        known = f"; delivered on their own: {', '.join(products)}" if products else ""
        raise DeliveryRefused(f"this deal has no product “{product}” delivered at a point in "
                              f"time{known}")
    line = named[0][0]
    if line.recognition != "milestone":
        return named[0]
    rows = [f for f in named if f[0].id == line.id and f[2].stopped_by_id is None]
    if marking:
        waiting = [f for f in rows if f[2].recognize_on == AWAITING]
        if not waiting:
            raise DeliveryRefused(f"every milestone of {line.description} is reached already")
        return waiting[0]
    marked = [f for f in rows if f[2].recognize_on != AWAITING and f[2].journal_entry_id is None]
    if not marked:
        raise DeliveryRefused(f"no milestone of {line.description} is marked and still to be "
                              "recognized: a recognized milestone can't be undone")
    return marked[-1]


def _rows(opportunity_id: str) -> Select[tuple[LedgerSalesOrderLine, LedgerSalesOrder,
                                                 LedgerRevenueSchedule]]:
    return (
        select(LedgerSalesOrderLine, LedgerSalesOrder, LedgerRevenueSchedule)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .join(LedgerRevenueSchedule,
              LedgerRevenueSchedule.sales_order_line_id == LedgerSalesOrderLine.id)
        .where(LedgerSalesOrder.external_id.like(f"{_escaped(opportunity_id)}:v%", escape="\\"),
               LedgerSalesOrderLine.recognition.in_(("point_in_time", "milestone")))
        .order_by(LedgerSalesOrder.id.desc(), LedgerSalesOrderLine.id,
                  LedgerRevenueSchedule.period_no)
    )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
