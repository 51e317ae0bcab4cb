"""Relative standalone-selling-price allocation (ASC 606-10-32-28 to 32-41), whatever the ERP.

The transaction price (the sum of the contract's line prices) is spread over the obligations in
proportion to their standalone selling prices, so a discount shown on one line is shared by all
of them and a free item gets its share. What each obligation is allocated is what its revenue
schedule recognizes; the invoices still bill the contract prices.

An SSP is per unit, and for a recurring product per month of service, so an obligation's
standalone value is SSP x quantity (x service months). An SSP is a point or a range: a contract
price inside the range is its own SSP (nothing moves); outside, the nearer bound is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sync.model import Contract, Obligation
from sync.revenue.schedule import months_between


@dataclass(frozen=True)
class Ssp:
    """A standalone selling price in minor units of `currency`: a point when low == high."""

    low_minor: int
    high_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.low_minor < 0 or self.high_minor < self.low_minor:
            raise ValueError("an SSP range needs 0 <= low <= high")


class MissingSsp(ValueError):
    """Allocation is needed but some products have no SSP: the deal is held, never guessed."""

    def __init__(self, products: Sequence[str], currency: str) -> None:
        self.products = tuple(products)
        names = ", ".join(self.products)
        super().__init__(
            f"no standalone selling price in {currency} for {names}: the price is discounted "
            "or free, so it must be allocated across the deal's products; set one with "
            "`closebot ssp set` or the product's SSP field in Salesforce"
        )


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """`total` in proportion to `weights`, largest remainders first; the parts add back."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-((total * weights[i]) % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def units(obligation: Obligation) -> int:
    """How many SSP units the obligation sells: quantity, times service months if recurring."""
    if not obligation.recurring:
        return obligation.quantity
    months = months_between(obligation.service_start, obligation.service_end)
    return obligation.quantity * months


def standalone(obligation: Obligation, ssp: Ssp) -> int:
    """The obligation's standalone value: its own price inside the range, else the nearer bound."""
    count = units(obligation)
    low, high = ssp.low_minor * count, ssp.high_minor * count
    return min(max(obligation.amount_minor, low), high)


def needs_allocation(contract: Contract) -> bool:
    """Two or more obligations, one of them sold below its list price or free."""
    obligations = contract.obligations
    return len(obligations) > 1 and any(
        o.amount_minor == 0 or o.unit_minor < o.list_unit_minor for o in obligations
    )


def allocate(contract: Contract, ssps: Mapping[str, Ssp]) -> Contract:
    """The contract with each obligation's allocated price (`allocated_minor`), or unchanged
    when allocation moves nothing. `ssps` maps product name to its SSP in the contract's
    currency. Raises MissingSsp when a discount or free item must be allocated without one."""
    obligations = contract.obligations
    missing = [o.product for o in obligations if o.product not in ssps]
    if missing:
        if needs_allocation(contract):
            raise MissingSsp(sorted(set(missing)), contract.currency)
        return contract
    price = sum(o.amount_minor for o in obligations)
    weights = [standalone(o, ssps[o.product]) for o in obligations]
    if sum(weights) == 0:
        return contract
    shares = largest_remainder(price, weights)
    if all(s == o.amount_minor for s, o in zip(shares, obligations, strict=True)):
        return contract
    allocated = tuple(
        o.model_copy(update={"allocated_minor": s})
        for o, s in zip(obligations, shares, strict=True)
    )
    return contract.model_copy(update={"obligations": allocated})
