"""Amendments: a new contract version changes an existing subscription and produces a change
order (the delta), never a second subscription or a second full sales order.

An amendment takes effect at the start of the next billing period (`effective`): billing
changes the subscription's prices from then on, without proration, and bills new one-time fees
now. The change order holds, per obligation, the difference in value over the periods that
start on or after `effective`, recognized ratably over the rest of the term; a brand-new fee is
a point-in-time line. A decrease is not posted automatically: it needs a credit, decided by a
person.
"""

from __future__ import annotations

from datetime import date

from sync.dates import add_months
from sync.model import Contract, Obligation, Recognition
from sync.money import format_money


class AmendmentNeedsCredit(ValueError):
    """The amendment lowers an obligation's remaining value; a person must issue the credit."""


def period_starts(contract: Contract) -> list[date]:
    months = contract.billing.cadence.months
    periods = max((o.periods for o in contract.recurring), default=0)
    return [add_months(contract.billing.start, k * months) for k in range(periods)]


def remaining_value(contract: Contract, obligation: Obligation, effective: date) -> int:
    remaining = sum(1 for start in period_starts(contract) if start >= effective)
    return obligation.period_amount_minor * min(remaining, obligation.periods)


def change_order(previous: Contract, current: Contract, effective: date) -> tuple[Obligation, ...]:
    """The delta obligations between two versions, as of `effective`."""
    before = {o.line_id: o for o in previous.obligations}
    by_product = {o.product: o for o in previous.obligations}
    lines: list[Obligation] = []
    seen: set[str] = set()
    end = current.billing.end
    for new in current.obligations:
        old = before.get(new.line_id) or by_product.get(new.product)
        if old is not None:
            seen.add(old.line_id)
        if not new.recurring:
            if old is None:
                lines.append(new.model_copy(update={"line_id": f"{new.line_id}:fee"}))
            continue
        delta = remaining_value(current, new, effective) - (
            remaining_value(previous, old, effective) if old is not None and old.recurring else 0
        )
        if delta < 0:
            raise AmendmentNeedsCredit(
                f"{new.product}: the amendment lowers the remaining value by "
                f"{format_money(-delta, current.currency)}; issue a credit for it"
            )
        if delta:
            lines.append(_delta(new, delta, effective, end))
    for old in previous.recurring:
        if old.line_id not in seen and remaining_value(previous, old, effective):
            raise AmendmentNeedsCredit(
                f"{old.product} was removed by the amendment; issue a credit for what is left"
            )
    return tuple(lines)


def _delta(new: Obligation, amount: int, effective: date, end: date) -> Obligation:
    start = min(max(effective, new.service_start), end)
    return new.model_copy(
        update={
            "line_id": f"{new.line_id}:delta@{effective.isoformat()}",
            "amount_minor": amount,
            "service_start": start,
            "service_end": end,
            "recognition": Recognition.RATABLE,
        }
    )
