"""Contract modifications (ASC 606-10-25-10 to 25-13), whatever the ERP.

A change to a contract already under way is one of three things, and the engine says which and why:

- **A separate contract** (25-12): the change only adds distinct goods or services, each priced
  at its standalone selling price (inside its SSP range). Nothing already planned moves; each
  added obligation is recognized at its own price.
- **Prospective** (25-13(a)): the goods still to transfer are distinct from those already
  transferred (each month of a subscription is, 25-14(b); so is an implementation not yet
  delivered). The old contract ends and a new one begins: what was promised and not recognized
  yet, plus the consideration the change adds (what the amendment bills from its effective date,
  less any credit), is allocated over the obligations still to satisfy in proportion to what is
  left of each at the new prices (a contract price stands for its SSP, as in allocation). An
  obligation the change drops is left 0: it recognizes nothing more.
- **Cumulative catch-up** (25-13(b)): the change is to one obligation that is partially
  satisfied and not a series of distinct parts (work recognized as milestones are reached). Its
  new price is measured by the progress already made, and the difference from what it has
  recognized is recognized in the modification's period (a reduction of revenue when negative);
  the rest waits for the milestones left.

A change mixing both kinds (25-13(c)) is recorded as a catch-up: its non-distinct obligations
catch up and the others share the prospective pool.

Every figure is integer minor units; shares are split by largest remainder and add back to the
cent; a catch-up is rounded half up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from sync.model import Contract, Obligation, Recognition
from sync.money import format_money
from sync.revenue.allocation import Ssp, largest_remainder, standalone
from sync.revenue.schedule import plan

# The audit log's action for a recorded classification.
ACTION = "revenue.modification"


class Kind(StrEnum):
    SEPARATE_CONTRACT = "separate_contract"
    PROSPECTIVE = "prospective"
    CUMULATIVE_CATCH_UP = "cumulative_catch_up"

    @property
    def label(self) -> str:
        return {"separate_contract": "separate contract", "prospective": "prospective",
                "cumulative_catch_up": "cumulative catch-up"}[self.value]


@dataclass(frozen=True)
class Modification:
    """How a change is accounted for: its kind, why, and per obligation (`line_id`) the revenue
    still to recognize from the effective date and any catch-up recognized on it."""

    kind: Kind
    reason: str
    effective: date
    remaining: dict[str, int] = field(default_factory=dict)
    catch_up: dict[str, int] = field(default_factory=dict)
    added: tuple[str, ...] = ()  # obligations a separate contract adds, at their own price

    def as_record(self) -> dict[str, object]:
        """What the audit log keeps of it (JSON)."""
        return {"kind": self.kind.value, "reason": self.reason,
                "effective_on": self.effective.isoformat(), "remaining": self.remaining,
                "catch_up": self.catch_up, "added": list(self.added)}


def planned_recognized(obligation: Obligation, before: date, *, on_delivery: bool = False
                       ) -> int:
    """What the obligation's plan recognized on days before `before`. A point-in-time one is
    recognized on its delivery day from the CRM (Delivered On), else on its service start
    unless deliveries are marked by hand (`on_delivery`); a milestone one has recognized only
    what its reached milestones say, which the caller passes as `recognized`."""
    if obligation.recognition is Recognition.POINT_IN_TIME:
        day = obligation.delivered_on or (None if on_delivery else obligation.service_start)
        return obligation.revenue_minor if day is not None and day < before else 0
    if obligation.recognition is not Recognition.RATABLE:
        return 0
    periods = plan(amount_minor=obligation.revenue_minor, start=obligation.service_start,
                   end=obligation.service_end, recognition=obligation.recognition.value)
    return sum(p.amount_minor for p in periods if p.recognize_on < before)


def _at_ssp(obligation: Obligation, ssp: Ssp | None, months: int) -> bool:
    """Whether an added obligation's price lies inside its SSP range (per unit, and per month
    of service for a recurring one: the period price spans `months` months)."""
    if ssp is None:
        return False
    count = obligation.quantity * (months if obligation.recurring else 1)
    price = obligation.period_amount_minor if obligation.recurring else obligation.amount_minor
    return ssp.low_minor * count <= price <= ssp.high_minor * count


def _not_distinct(obligation: Obligation, recognized: int) -> bool:
    """Partially satisfied and measured by progress, not a series of distinct periods."""
    return obligation.recognition is Recognition.MILESTONE and \
        0 < recognized < obligation.revenue_minor


def classify(previous: Contract, current: Contract, effective: date, *, fresh: int,
             left: Mapping[str, int], recognized: Mapping[str, int] | None = None,
             ssps: Mapping[str, Ssp] | None = None, on_delivery: bool = False
             ) -> Modification | None:
    """Classify the change from `previous` to `current` taking effect on `effective`.

    `fresh` is the consideration the change adds (what the amendment bills from its effective
    date, less its credit, plus any change to a one-time price); `left` is, per recurring
    obligation of `current` (by line id), what it still bills from the effective date at the
    new prices. `recognized` is what each obligation of `previous` has recognized before the
    effective date; missing ones are taken from their plan (`planned_recognized`, with
    `on_delivery` when point-in-time obligations wait for a delivery marked by hand). `ssps`
    maps products to their SSP, to tell whether an added product is priced at it. None when
    nothing promised or charged changed: no modification."""
    ssps = ssps or {}
    before = {o.line_id: o for o in previous.obligations}
    by_product = {o.product: o for o in previous.obligations}
    done = {o.line_id: (recognized or {}).get(
        o.line_id, planned_recognized(o, effective, on_delivery=on_delivery))
        for o in previous.obligations}
    matched: dict[str, Obligation] = {}  # current line id → previous obligation
    added: list[Obligation] = []
    for new in current.obligations:
        old = before.get(new.line_id) or by_product.get(new.product)
        if old is None:
            added.append(new)
        else:
            matched[new.line_id] = old
    changed = [new for new in current.obligations if new.line_id in matched
               and _terms(new) != _terms(matched[new.line_id])]
    dropped = [o for o in previous.obligations if o not in matched.values()]
    money = current.currency
    months = current.billing.cadence.months

    if not added and not changed and not dropped:
        return None  # nothing promised or charged changed (a delivery day, say)
    if added and not changed and not dropped and all(
            _at_ssp(o, ssps.get(o.product), months) for o in added):
        names = ", ".join(o.product for o in added)
        return Modification(
            Kind.SEPARATE_CONTRACT,
            f"adds {names}, distinct and priced within its standalone selling price: a "
            "separate contract (ASC 606-10-25-12); nothing already planned changes",
            effective, remaining={o.line_id: left.get(o.line_id, o.amount_minor) for o in added},
            added=tuple(o.line_id for o in added))

    catch_up: dict[str, int] = {}
    remaining: dict[str, int] = {}
    notes: list[str] = []
    pool = fresh
    for new in changed:
        old = matched[new.line_id]
        if _not_distinct(old, done[old.line_id]):
            progress = Fraction(done[old.line_id], old.revenue_minor)
            measured = _half_up(new.amount_minor * progress)
            catch_up[new.line_id] = measured - done[old.line_id]
            remaining[new.line_id] = new.amount_minor - measured
            pool -= new.amount_minor - old.amount_minor
            notes.append(f"{new.product} is {_pct(progress)} complete and not distinct from "
                         f"what was delivered: its new price is measured by that progress, a "
                         f"catch-up of {format_money(catch_up[new.line_id], money)}")
    rest = [o for o in current.obligations if o.line_id not in remaining]
    for new in rest:
        old = matched.get(new.line_id)
        if old is not None:
            pool += old.revenue_minor - done[old.line_id]
    pool += sum(o.revenue_minor - done[o.line_id] for o in dropped)
    weights = [_weight(o, left, matched.get(o.line_id), done, ssps.get(o.product))
               for o in rest]
    if rest and pool and not any(weights):
        # Nothing is left to deliver: the change is revenue of its own period (32-43).
        for o, share in zip(rest, largest_remainder(pool, [o.amount_minor for o in rest]),
                            strict=True):
            catch_up[o.line_id], remaining[o.line_id] = share, 0
        notes.append(f"nothing is left to deliver, so the {format_money(pool, money)} it "
                     "changes is recognized in the modification's period")
        pool = 0
    for o, share in zip(rest, largest_remainder(pool, weights), strict=True):
        remaining.setdefault(o.line_id, share)
    for o in dropped:
        # Its goods are no longer promised: the old contract ended (25-13(a)), so it recognizes
        # nothing more; what it recognized stays, what it had left is in the pool above.
        remaining[o.line_id] = 0
    if catch_up:
        kind = Kind.CUMULATIVE_CATCH_UP
        reason = "; ".join(notes) + " (ASC 606-10-25-13(b))"
    else:
        kind = Kind.PROSPECTIVE
        why = ("adds a product not priced at its standalone selling price" if added and not
               changed else "changes obligations whose remaining goods are distinct from those "
               "transferred")
        change = (f"plus the {format_money(fresh, money)} the change adds" if fresh >= 0 else
                  f"less the {format_money(-fresh, money)} the change takes off")
        reason = (f"{why}: the {format_money(pool - fresh, money)} not yet recognized, "
                  f"{change}, is allocated over what is left to deliver "
                  "(ASC 606-10-25-13(a))")
    return Modification(kind, reason, effective, remaining=remaining, catch_up=catch_up)


def _terms(o: Obligation) -> tuple[int, int, date, date]:
    return o.amount_minor, o.quantity, o.service_start, o.service_end


def _weight(o: Obligation, left: Mapping[str, int], old: Obligation | None,
            done: Mapping[str, int], ssp: Ssp | None) -> int:
    """What is left to deliver of `o`: at the new contract prices, a one-time product at its
    standalone value when its SSP is known (its price inside the range, else the bound)."""
    if o.recurring:
        return left.get(o.line_id, 0)
    if old is not None and done.get(old.line_id, 0) >= old.revenue_minor > 0:
        return 0  # delivered already: nothing of it is left to allocate to
    return standalone(o, ssp) if ssp is not None else o.amount_minor


def _half_up(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


def _pct(progress: Fraction) -> str:
    pct = Decimal(progress.numerator * 100) / Decimal(progress.denominator)
    return f"{pct.normalize():f}%" if pct == pct.to_integral_value() else f"{pct:.2f}%"
