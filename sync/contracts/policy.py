"""Which deals are non-standard billing events that wait for a person before anything is created."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sync.contracts.amendments import amend
from sync.model import Contract
from sync.money import format_money


@dataclass(frozen=True)
class PolicyLimits:
    discount_pct: int = 20
    amendment_pct: int = 10
    max_payment_terms_days: int = 60


@dataclass(frozen=True)
class Reason:
    """One thing that is non-standard, with the original and proposed values for the card."""

    kind: str  # discount | terms | amendment | flagged
    what: str
    original: str
    proposed: str


def review_reasons(
    contract: Contract,
    *,
    limits: PolicyLimits,
    flagged: bool = False,
    previous: Contract | None = None,
    on: date | None = None,
) -> list[Reason]:
    reasons: list[Reason] = []
    for o in contract.obligations:
        if o.discount_pct > limits.discount_pct:
            reasons.append(
                Reason(
                    kind="discount",
                    what=f"{o.product}: {o.discount_pct.normalize():f}% off list "
                    f"(policy allows {limits.discount_pct}%)",
                    original=format_money(o.list_unit_minor * o.quantity * o.periods,
                                          contract.currency),
                    proposed=format_money(o.amount_minor, contract.currency),
                )
            )
    days = contract.billing.payment_terms_days
    if days > limits.max_payment_terms_days:
        reasons.append(
            Reason(
                kind="terms",
                what=f"Payment terms Net {days} "
                f"(policy allows Net {limits.max_payment_terms_days})",
                original=f"Net {limits.max_payment_terms_days}",
                proposed=f"Net {days}",
            )
        )
    if previous is not None and previous.total_minor:
        change = Decimal(contract.total_minor - previous.total_minor) / previous.total_minor * 100
        if abs(change) > limits.amendment_pct:
            reasons.append(
                Reason(
                    kind="amendment",
                    what=f"Amendment changes contract value by {change:+.1f}% "
                    f"(policy allows ±{limits.amendment_pct}%)"
                    + (_what_follows(previous, contract, on) if on else ""),
                    original=format_money(previous.total_minor, previous.currency),
                    proposed=format_money(contract.total_minor, contract.currency),
                )
            )
    if flagged:
        reasons.append(
            Reason(kind="flagged", what="Flagged for review in Salesforce", original="",
                   proposed="")
        )
    return reasons


def _what_follows(previous: Contract, contract: Contract, on: date) -> str:
    """What approving it on `on` bills or credits (the day it is approved is its effective
    date, so the figures move a little with the day)."""
    change = amend(previous, contract, on)
    delta = sum(o.amount_minor for o in change.lines)
    cur = contract.currency
    if change.credit:
        follows = (f"a credit of {format_money(change.credit, cur)} on the invoice that billed "
                   "the current period")
        if delta:
            follows += f" and {format_money(-delta, cur)} less for the later periods"
        return f". Approved on {on}: {follows}"
    if delta > 0:
        return (f". Approved on {on}: {format_money(delta, cur)} more over the rest of the "
                "term, the current period's prorated part invoiced at once")
    return ""
