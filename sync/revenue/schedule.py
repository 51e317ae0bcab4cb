"""Recognition periods of one performance obligation (ASC 606 / IFRS 15), whatever the ERP.

Ratable obligations are recognized by service month: one period per month of service, each
recognized on its last day, the amounts split so they add back to the obligation exactly. A
point-in-time obligation is one period, recognized on delivery, which is the service start date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sync.dates import add_months
from sync.money import split_evenly


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    recognize_on: date
    amount_minor: int


def months_between(start: date, end: date) -> int:
    """Service months from `start` to an inclusive `end`: Jan 1 to Oct 31 is 10, not 9."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, months + (1 if end.day >= start.day else 0))


def plan(*, amount_minor: int, start: date, end: date, recognition: str) -> list[Period]:
    """The recognition periods of one obligation, in order."""
    if recognition == "point_in_time":
        return [Period(start, start, start, amount_minor)]
    count = months_between(start, end)
    periods = []
    for i, amount in enumerate(split_evenly(amount_minor, count)):
        p_start = add_months(start, i)
        p_end = end if i == count - 1 else add_months(start, i + 1) - timedelta(days=1)
        periods.append(Period(p_start, p_end, p_end, amount))
    return periods
