"""How much of an invoice line was earned by a given day, per its obligation's revenue plan.

ERPs that keep their own revenue schedules (NetSuite) are told this estimate when an invoice is
voided or written off; the embedded ledger reverses what it actually recognized instead.
"""

from __future__ import annotations

from datetime import date

from sync.model import InvoiceLine, Obligation
from sync.revenue.schedule import plan


def earned_by(line: InvoiceLine, obligation: Obligation | None, *, on: date) -> int:
    """The part of `line` recognized by `on`: the plan's periods that the line billed (for a
    recurring line, those recognized within its billing period) and that fell due by then."""
    if obligation is None or line.amount_minor <= 0:
        return 0
    periods = plan(amount_minor=obligation.amount_minor, start=obligation.service_start,
                   end=obligation.service_end, recognition=obligation.recognition.value)
    if line.recurring and line.period_start and line.period_end:
        start, end = line.period_start, line.period_end
        periods = [p for p in periods if start <= p.recognize_on < end]
    return min(line.amount_minor, sum(p.amount_minor for p in periods if p.recognize_on <= on))
