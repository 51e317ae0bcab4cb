"""What closebot reads about money leaving the billing system for the bank: payouts, for
matching bank statements and answering `/payout` (the postings cash becomes are in
`ports_cash.py`). Kept apart from `ports.py`, the engine's write protocols.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

# Stripe's payout statuses that will not reach the bank (or took their money back).
NOT_ARRIVING = frozenset({"failed", "canceled"})
# Banks post a payout up to a few days after its arrival date (weekends, holidays); past that,
# a statement that runs later without its line means the money is missing.
BANK_LATE_DAYS = 4


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


@dataclass(frozen=True)
class PayoutBreakdown:
    """What a payout carried, from its balance transactions, in minor units of its currency:
    gross + refunds + disputes + other - fees = net, which should be the payout's amount."""

    currency: str
    gross_minor: int  # charges and payments
    refunds_minor: int  # negative: refunds, net of refunds that failed
    fees_minor: int  # positive: processing and dispute fees, net of fees given back
    disputes_minor: int  # negative: disputed amounts withdrawn, net of those reinstated
    other_minor: int  # anything else (adjustments, payout failures)
    transactions: int

    @property
    def net_minor(self) -> int:
        return (self.gross_minor + self.refunds_minor + self.disputes_minor + self.other_minor
                - self.fees_minor)


class Payouts(Protocol):
    def payouts(self, *, arriving_from: date, arriving_to: date) -> Iterator[list[Payout]]:
        """Every payout arriving in the closed range, a page at a time."""
        ...

    def payout(self, payout_id: str) -> Payout | None:
        """One payout, or None if the processor has no payout by that ID."""
        ...

    def breakdown(self, payout: Payout) -> PayoutBreakdown:
        """The payout's balance transactions, summed by kind."""
        ...
