"""The emulator's clock and billing-period arithmetic.

Stripe bills calendar months from the billing cycle anchor, clamping to the last day of shorter
months: a subscription anchored on Jan 31 renews on Feb 28 (or 29), then Mar 31, never drifting to
the 28th. Each period end is therefore computed from the anchor, not from the previous end.
"""

from __future__ import annotations

import calendar
import threading
import time
from datetime import UTC, datetime, timedelta

DAY = 86_400
HOUR = 3_600


class Clock:
    """Unix seconds that only move when `advance` is called (never with wall time)."""

    def __init__(self, start: int | None = None) -> None:
        self._now = int(start if start is not None else time.time())
        self._lock = threading.Lock()

    @property
    def now(self) -> int:
        with self._lock:
            return self._now

    def set(self, ts: int) -> None:
        with self._lock:
            if ts < self._now:
                raise ValueError("the emulator clock cannot go backwards")
            self._now = ts


def _add_months(anchor: datetime, months: int) -> datetime:
    total = anchor.month - 1 + months
    year, month = anchor.year + total // 12, total % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_boundary(anchor: int, interval: str, interval_count: int, n: int) -> int:
    """The start of period `n` (0 = the anchor itself) for a recurring price's interval."""
    base = datetime.fromtimestamp(anchor, UTC)
    if interval == "month":
        moved = _add_months(base, interval_count * n)
    elif interval == "year":
        moved = _add_months(base, 12 * interval_count * n)
    elif interval == "week":
        moved = base + timedelta(weeks=interval_count * n)
    elif interval == "day":
        moved = base + timedelta(days=interval_count * n)
    else:
        raise ValueError(f"unknown interval {interval!r}")
    return int(moved.timestamp())
