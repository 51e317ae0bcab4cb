"""Milestones (percent complete, ASC 606-10-25-31 to 25-37, an output method): an obligation
recognized as its milestones are reached, each milestone its percentage of the obligation's
allocated price. Shares are whole cents by largest remainder, so they add back to the price.

Milestones come from the Salesforce line's Milestones field (read by `sync.contracts.terms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


def shares(amount_minor: int, percents: Sequence[Decimal]) -> list[int]:
    """Each milestone's share of `amount_minor`; they add back to it exactly."""
    scale = max((-p.as_tuple().exponent for p in percents if isinstance(
        p.as_tuple().exponent, int)), default=0)
    weights = [int(p.scaleb(max(scale, 0))) for p in percents]
    # Largest remainder, as `sync.revenue.allocation` splits (which plans through this module).
    whole = sum(weights)
    out = [amount_minor * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(amount_minor * weights[i] % whole), i))
    for i in order[: amount_minor - sum(out)]:
        out[i] += 1
    return out


def reached_share(amount_minor: int, percents: Sequence[Decimal], reached: int) -> int:
    """What the first `reached` milestones recognize together."""
    return sum(shares(amount_minor, percents)[:reached])
