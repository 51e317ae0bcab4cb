"""Amendments: a new contract version changes an existing subscription and produces a change
order (the delta), never a second subscription or a second full sales order.

An amendment takes effect on its effective date (docs/amendments.md): the day closebot first
bills the new version. From that day the customer pays the new prices: for the rest of the
current billing period the prorated difference, billed at once (Stripe's
`proration_behavior=always_invoice` with `proration_date` at the start of the effective day),
and every later period in full at the new price. The change order holds, per obligation, exactly
that: the prorated difference for the current period plus the full difference for each later
one, recognized ratably from the effective date to the end of the term; a brand-new fee is a
point-in-time line. A decrease is not invoiced: the unused time of the current period at the
old price, less the remaining time at the new one, is a credit note on the invoice that billed
the period (and so an ERP credit memo against its deferred revenue), and the change order holds
only the later periods' difference, a negative line that re-plans the schedule from the next
period on.

Proration is by whole days, as Stripe's by seconds is for periods that start at midnight UTC:
for each item, `round(period price x days left / days in the period)`, the old price's share
taken off and the new one's added, each rounded half up on its own as Stripe rounds each of its
two proration lines.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _parts(contract: Contract, obligation: Obligation | None, effective: date
           ) -> tuple[int, int, date | None]:
    """What the obligation still bills from `effective`: (its prorated share of the current
    period, the whole of each later period, the day the next period starts)."""
    now = later = 0
    following = None
    if obligation is None or not obligation.recurring:
        return now, later, following
    for n, (start, end) in enumerate(periods(contract)):
        if n >= obligation.periods or end <= effective:
            continue
        whole = obligation.period_amount_minor
        if start > effective:
            later += whole
            following = following or start
        else:
            now += prorate(whole, (end - effective).days, (end - start).days)
    return now, later, following


def remaining_value(contract: Contract, obligation: Obligation, effective: date) -> int:
    now, later, _ = _parts(contract, obligation, effective)
    return now + later


@dataclass(frozen=True)
class Amendment:
    """A change order (`lines`) and, for a decrease, the credit for the unused time of the
    current period at the old price (`credit`, a credit note on the invoice that billed it)."""

    lines: tuple[Obligation, ...]
    credit: int = 0


def amend(previous: Contract, current: Contract, effective: date) -> Amendment:
    """The delta between two versions, as of `effective`. An increase is one ratable line per
    obligation from `effective` (what Stripe bills now and later); a decrease keeps the current
    period's part out of the change order: it is the credit, and the ERP's credit memo on the
    invoice that billed the period takes it out of deferred revenue and re-plans that period.
    """
    before = {o.line_id: o for o in previous.obligations}
    by_product = {o.product: o for o in previous.obligations}
    lines: list[Obligation] = []
    credit = 0
    seen: set[str] = set()
    end = current.billing.end
    pairs: list[tuple[Obligation, Obligation | None, Obligation | None]] = []
    for new in current.obligations:
        old = before.get(new.line_id) or by_product.get(new.product)
        if old is not None:
            seen.add(old.line_id)
        if not new.recurring:
            if old is None:
                lines.append(new.model_copy(update={"line_id": f"{new.line_id}:fee"}))
            continue
        pairs.append((new, new, old))
    pairs += [(old, None, old) for old in previous.recurring if old.line_id not in seen]
    for line, new, old in pairs:
        now_new, later_new, following = _parts(current, new, effective)
        now_old, later_old, following_old = _parts(previous, old, effective)
        now, later = now_new - now_old, later_new - later_old
        if now < 0:
            credit -= now
            now = 0
        if now:
            lines.append(_delta(line, now + later, effective, effective, end))
        elif later and (following or following_old):
            lines.append(_delta(line, later, effective, following or following_old, end))
    return Amendment(tuple(lines), credit)


def change_order(previous: Contract, current: Contract, effective: date) -> tuple[Obligation, ...]:
    """The delta obligations between two versions, as of `effective`."""
    return amend(previous, current, effective).lines


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


def _delta(new: Obligation, amount: int, effective: date, starts: date, end: date
           ) -> Obligation:
    start = min(max(starts, new.service_start), end)
    return new.model_copy(
        update={
            "line_id": f"{new.line_id}:delta@{effective.isoformat()}",
            "amount_minor": amount,
            "service_start": start,
            "service_end": end,
            "recognition": Recognition.RATABLE,
        }
    )
