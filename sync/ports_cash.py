"""What closebot reads about money leaving the billing system for the bank: payouts.

Kept apart from `ports.py` (the engine's write protocols): these are reads for matching bank
statements and answering `/payout`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

# Stripe's payout statuses that will not reach the bank (or took their money back).
NOT_ARRIVING = frozenset({"failed", "canceled"})


@dataclass(frozen=True)
class Payout:
    id: str
    amount_minor: int
    currency: str
    arrival_date: date
    status: str  # paid | pending | in_transit | canceled | failed
    trace_id: str  # the bank's trace number once the processor reports it, else ""
    descriptor: str  # the statement descriptor the bank line shows, else ""
    balance_transaction: str = ""


class Payouts(Protocol):
    def payouts(self, *, arriving_from: date, arriving_to: date) -> Iterator[list[Payout]]:
        """Every payout arriving in the closed range, a page at a time."""
        ...

    def payout(self, payout_id: str) -> Payout | None:
        """One payout, or None if the processor has no payout by that ID."""
        ...
