"""Time: calendar arithmetic for billing periods, and the durations that are legitimately
floating point, named so none is mistaken for money (money is always `Decimal` or integer minor
units, see `sync.money`)."""

from __future__ import annotations

import calendar
from datetime import date
from typing import TypeAlias, TypeVar

D = TypeVar("D", bound=date)

Seconds: TypeAlias = float
Sample: TypeAlias = float  # a metric sample, as Prometheus exposes it


def add_months(moment: D, months: int) -> D:
    """Same day `months` later, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
