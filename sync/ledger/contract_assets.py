"""Contract assets and contract liabilities (ASC 606-10-45-1 to 45-4), per contract.

A contract whose recognized revenue exceeds what it has billed (less credits) holds a contract
asset, an unbilled receivable: revenue earned ahead of the invoice, as when a discounted or
waived implementation is allocated its SSP share and delivered on day one while the deal is
billed month by month. A contract billed ahead of its revenue holds a contract liability
(deferred revenue). ASC 606 presents each contract net, one or the other.

The ledger books every invoice to Deferred Revenue and every recognition out of it, so a
contract's Deferred Revenue lines (traced to it by `audit_view`) net to its position: a credit
balance is its liability, a debit balance its asset. This reads that split for the balance
sheet (a presentation reclassification: Deferred Revenue as booked = liabilities - assets); an
invoice posted later credits Deferred Revenue and so reclassifies the asset into the
receivable with no entry of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from sync.ledger.audit_view import postings


@dataclass(frozen=True)
class Position:
    opportunity_id: str
    currency: str
    asset_minor: int  # recognized, not billed yet: an unbilled receivable
    liability_minor: int  # billed, not recognized yet: deferred revenue


@dataclass(frozen=True)
class Summary:
    currency: str
    assets_minor: int
    liabilities_minor: int

    @property
    def deferred_minor(self) -> int:
        """Deferred Revenue as the ledger books it (credit-positive)."""
        return self.liabilities_minor - self.assets_minor


def positions(session: Session, *, as_of: date, opportunity_id: str | None = None
              ) -> list[Position]:
    """Each contract's position on `as_of` (from entries posted by then), by deal."""
    net: dict[tuple[str, str], int] = defaultdict(int)  # debit-positive
    for p in postings(session):
        if p.role != "deferred_revenue" or p.posted_on > as_of or not p.order_external_id:
            continue
        deal = p.order_external_id.rpartition(":v")[0]
        if opportunity_id is None or deal == opportunity_id:
            net[(deal, p.currency)] += p.amount_minor
    return [Position(deal, currency, max(0, amount), max(0, -amount))
            for (deal, currency), amount in sorted(net.items())]


def summaries(found: list[Position]) -> list[Summary]:
    """Per currency, the contracts' assets and liabilities."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in found:
        totals[p.currency][0] += p.asset_minor
        totals[p.currency][1] += p.liability_minor
    return [Summary(c, a, li) for c, (a, li) in sorted(totals.items())]
