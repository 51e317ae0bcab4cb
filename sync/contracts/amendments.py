"""Amendments: a new contract version changes an existing subscription and produces a change
order (the delta), never a second subscription or a second full sales order.

An amendment takes effect on its effective date (docs/amendments.md): the day closebot first
bills the new version. From that day the customer pays the new prices: for the rest of the
current billing period the prorated difference, billed at once (Stripe's
`proration_behavior=always_invoice` with `proration_date` at the start of the effective day),
and every later period in full at the new price. The change order holds, per obligation, exactly
that: the prorated difference for the current period plus the full difference for each later
one, recognized ratably from the effective date to the end of the term; a brand-new fee is a
point-in-time line. A decrease is a negative change order line: the credit Stripe gives for the
unused time.

Proration is by whole days, as Stripe's by seconds is for periods that start at midnight UTC:
for each item, `round(period price x days left / days in the period)`, the old price's share
taken off and the new one's added, each rounded half up on its own as Stripe rounds each of its
two proration lines.
"""

from __future__ import annotations

from datetime import date, timedelta

from sync.dates import add_months
from sync.model import Contract, Obligation, Recognition
from sync.money import prorate


def periods(contract: Contract) -> list[tuple[date, date]]:
    """The billing periods of the term, [start, end) each; the last one stops at the term's end
    (the subscription's `cancel_at`)."""
    months = contract.billing.cadence.months
    count = max((o.periods for o in contract.recurring), default=0)
    stop = contract.billing.end + timedelta(days=1)
    spans = [(add_months(contract.billing.start, k * months),
              add_months(contract.billing.start, (k + 1) * months)) for k in range(count)]
    return [(start, min(end, stop)) for start, end in spans if start < stop]


def remaining_value(contract: Contract, obligation: Obligation, effective: date) -> int:
    """What the obligation still bills from `effective`: its prorated share of the current
    period and the whole of each later one."""
    value = 0
    for n, (start, end) in enumerate(periods(contract)):
        if n >= obligation.periods or end <= effective:
            continue
        whole = obligation.period_amount_minor
        value += whole if start >= effective else prorate(
            whole, (end - effective).days, (end - start).days)
    return value


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
        if delta:
            lines.append(_delta(new, delta, effective, end))
    for old in previous.recurring:
        if old.line_id not in seen and (left := remaining_value(previous, old, effective)):
            lines.append(_delta(old, -left, effective, end))
    return tuple(lines)


def amended_value(versions: list[tuple[Contract, date | None]]) -> int:
    """What a deal's contract is worth once amended: the first version's value and each
    change order's delta (versions in order, each with its effective date)."""
    total, previous = 0, None
    for contract, effective in versions:
        if previous is None or effective is None:
            total = contract.total_minor
        else:
            total += sum(o.amount_minor for o in change_order(previous, contract, effective))
        previous = contract
    return total


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
