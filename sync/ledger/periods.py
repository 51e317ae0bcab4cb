"""Closed periods: once a month is closed nothing posts dated in it or before it.

The lock is "closed through" the latest closed month's last day, as books are closed in order.
A late item (a Stripe credit, a void, revenue that came due in a closed month) is posted on the
first day after the lock, with a note in its memo naming the day it belonged to; a person asking
for a date in a closed period is refused instead (`ClosedPeriod`).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import LedgerPeriod
from sync.ledger.errors import LedgerError


class ClosedPeriod(LedgerError):
    """A date a person asked for lies in a closed period."""


def parse_period(text: str) -> tuple[date, date]:
    """`2026-11` → (1 Nov 2026, 30 Nov 2026); ValueError with a readable message otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValueError(f"“{text}” is not a period: write it as 2026-11") from None
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def name_of(day: date) -> str:
    return f"{day:%Y-%m}"


def closed_through(session: Session) -> date | None:
    """The last day of the latest closed period, or None when none is closed."""
    return session.scalar(select(func.max(LedgerPeriod.ends_on)))


def posting_day(session: Session, day: date) -> tuple[date, str]:
    """The day an entry dated `day` posts on, and a memo note when it had to move."""
    return posting_day_after(closed_through(session), day)


def posting_day_after(lock: date | None, day: date) -> tuple[date, str]:
    """`posting_day` with the lock already read (once for a batch of entries)."""
    if lock is None or day > lock:
        return day, ""
    moved = lock + timedelta(days=1)
    return moved, f" (dated {day.isoformat()}, in closed period {name_of(day)})"


def refuse_closed(session: Session, day: date, what: str) -> None:
    lock = closed_through(session)
    if lock is not None and day <= lock:
        raise ClosedPeriod(f"{what} on {day:%d %b %Y} falls in a closed period (the books are "
                           f"closed through {lock:%d %b %Y}): use a day after that")
