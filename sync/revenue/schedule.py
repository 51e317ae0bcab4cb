"""Recognition periods of one performance obligation (ASC 606 / IFRS 15), whatever the ERP.

Ratable obligations are recognized by service month: one period per month of service, each
recognized on its last day, the amounts split so they add back to the obligation exactly. A
point-in-time obligation is one period, recognized on delivery, which is the service start date.
A milestone obligation is one period per milestone, each its share of the price, waiting for
the milestone to be reached (`AWAITING`, see `sync.revenue.delivery`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sync.money import split_evenly
from sync.revenue.delivery import AWAITING
from sync.revenue.milestones import shares as milestone_shares


class Period(NamedTuple):
    """A tuple, not a frozen dataclass: a 100,000-contract book plans millions of them."""

    start: date
    end: date
    recognize_on: date
    amount_minor: int


def months_between(start: date, end: date) -> int:
    """Service months from `start` to an inclusive `end`: Jan 1 to Oct 31 is 10, not 9."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, months + (1 if end.day >= start.day else 0))


def plan(*, amount_minor: int, start: date, end: date, recognition: str,
         milestones: Sequence[Decimal] = ()) -> list[Period]:
    """The recognition periods of one obligation, in order."""
    if recognition == "point_in_time":
        return [Period(start, start, start, amount_minor)]
    if recognition == "milestone":
        return [Period(AWAITING, AWAITING, AWAITING, share)
                for share in milestone_shares(amount_minor, milestones or (Decimal(100),))]
    bounds, ends = _calendar(start, end)
    new = tuple.__new__  # what `Period(...)` does, without its keyword handling per period
    return [new(Period, (s, e, e, amount)) for s, e, amount
            in zip(bounds, ends, split_evenly(amount_minor, len(bounds)), strict=True)]


@lru_cache(maxsize=4_096)
def _calendar(start: date, end: date) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """Each period's first and last day. A book has few distinct service terms (contracts
    start on a handful of days), so each is worked out once."""
    count = months_between(start, end)
    # Each month boundary once: period i runs from boundary i to the day before boundary i + 1.
    bounds = _month_starts(start, count)
    return tuple(bounds), (*(b - _DAY for b in bounds[1:]), end)


_DAY = timedelta(days=1)
_DAYS_IN = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_starts(start: date, count: int) -> list[date]:
    """`add_months(start, i)` for i in range(count), without a calendar call per month."""
    out, year, month, day = [], start.year, start.month, start.day
    for _ in range(count):
        last = 29 if month == 2 and year % 4 == 0 and (year % 100 or year % 400 == 0) \
            else _DAYS_IN[month - 1]
        out.append(date(year, month, min(day, last)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
