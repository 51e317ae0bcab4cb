"""The worked example statement (tests/unit/bank_files/, one statement in OFX, BAI2 and camt.053)
and the Stripe payouts it should match, written out by hand.

Bank account 4000123456, USD, 2026-03-03 .. 2026-03-09:
    03-03  +2,910.60  STRIPE TRANSFER ST-TRACE-A1    ← po_A (trace ST-TRACE-A1, due 03-03)
    03-05  +1,455.30  STRIPE TRANSFER PAYOUT       ← po_B (no trace, due 03-05: amount and date)
    03-06  -4,500.00  OFFICE RENT                    ← nothing: an unmatched line
    03-09  +1,455.30  STRIPE TRANSFER ST-TRACE-C3    ← po_C (trace ST-TRACE-C3, due 03-08)
Stripe also has po_D (800.00 due 03-04, no line by 03-09: missing) and po_E (500.00, failed:
never reaches the bank, so not missing).

Matched: 2,910.60 + 1,455.30 + 1,455.30 = 5,821.20 = every bank credit.
Stripe payouts that should arrive: 5,821.20 + 800.00 = 6,621.20; missing 800.00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sync.ports_bank import Payout

FILES = Path(__file__).parent / "bank_files"
FORMATS = {"statement.ofx": "OFX", "statement.bai": "BAI2", "statement.camt053.xml": "camt.053"}
ACCOUNT = "4000123456"
MATCHED_MINOR = 582_120
MISSING_MINOR = 80_000


def payout(pid: str, minor: int, day: int, *, trace: str = "", status: str = "paid") -> Payout:
    return Payout(id=pid, amount_minor=minor, currency="USD", arrival_date=date(2026, 3, day),
                  status=status, trace_id=trace, descriptor="STRIPE TRANSFER")


PAYOUTS = [
    payout("po_A", 291_060, 3, trace="ST-TRACE-A1"),
    payout("po_B", 145_530, 5),
    payout("po_C", 145_530, 8, trace="ST-TRACE-C3"),
    payout("po_D", 80_000, 4),
    payout("po_E", 50_000, 6, status="failed"),
]
EXPECTED = {"po_A": f"{ACCOUNT}:202603030001", "po_B": f"{ACCOUNT}:202603050001",
            "po_C": f"{ACCOUNT}:202603090001"}


class ListedPayouts:
    """The `Payouts` port over a fixed list, filtered and paged as the Stripe connector is."""

    def __init__(self, payouts: list[Payout], page: int = 2) -> None:
        self.items, self.page, self.calls = payouts, page, 0

    def payouts(self, *, arriving_from: date, arriving_to: date) -> Iterator[list[Payout]]:
        found = [p for p in self.items if arriving_from <= p.arrival_date <= arriving_to]
        for i in range(0, len(found), self.page):
            self.calls += 1
            yield found[i:i + self.page]

    def payout(self, payout_id: str) -> Payout | None:
        return next((p for p in self.items if p.id == payout_id), None)
