"""Which bank line is which Stripe payout: same currency and amount, posted within a few days of
the payout's arrival date, the line naming the payout's trace ID (or ID) preferred.

Pure: it is given the payouts and the lines still unmatched and returns the pairs, so the same
call serves an import, a re-import (which finds nothing new) and the benchmark. Lines are indexed
by (currency, amount) and sorted by date, so a statement of 50,000 lines is matched in one pass.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sync.cash.bank_lines import BankLine
from sync.ports_bank import BANK_LATE_DAYS, NOT_ARRIVING, Payout

# Banks post a payout on its arrival date, sometimes a day early (value-dated) and up to a few
# days late around weekends and holidays.
EARLY = timedelta(days=1)
LATE = timedelta(days=BANK_LATE_DAYS)
BY_REFERENCE, BY_AMOUNT = "reference", "amount and date"


@dataclass(frozen=True)
class Match:
    payout_id: str
    line_key: str
    how: str


class _Bucket:
    """Lines of one currency and amount, by date; a taken line is skipped from then on."""

    def __init__(self, lines: list[BankLine]) -> None:
        self.lines = sorted(lines, key=lambda line: (line.posted_on, line.key))
        self.days = [line.posted_on for line in self.lines]

    def window(self, arrival: date) -> list[BankLine]:
        lo = bisect.bisect_left(self.days, arrival - EARLY)
        hi = bisect.bisect_right(self.days, arrival + LATE)
        return self.lines[lo:hi]


def match(payouts: Iterable[Payout], lines: Iterable[BankLine]) -> list[Match]:
    grouped: dict[tuple[str, int], list[BankLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.currency, line.amount_minor)].append(line)
    buckets = _Buckets(grouped)
    waiting = sorted((p for p in payouts if p.status not in NOT_ARRIVING),
                     key=lambda p: (p.arrival_date, p.id))
    taken: set[str] = set()
    found: list[Match] = []
    # A named reference first, so an unnamed line of the same amount can't take its payout.
    for how in (BY_REFERENCE, BY_AMOUNT):
        rest = []
        for payout in waiting:
            line = _pick(payout, buckets, taken, by_reference=how == BY_REFERENCE)
            if line is None:
                rest.append(payout)
                continue
            taken.add(line.key)
            found.append(Match(payout_id=payout.id, line_key=line.key, how=how))
        waiting = rest
    return found


class _Buckets(dict[tuple[str, int], "_Bucket | None"]):
    """Sorted only for the amounts some payout asks for: most lines are not payouts."""

    def __init__(self, grouped: dict[tuple[str, int], list[BankLine]]) -> None:
        super().__init__()
        self.grouped = grouped

    def __missing__(self, key: tuple[str, int]) -> _Bucket | None:
        lines = self.grouped.get(key)
        bucket = self[key] = _Bucket(lines) if lines else None
        return bucket


def _pick(payout: Payout, buckets: _Buckets, taken: set[str], *,
          by_reference: bool) -> BankLine | None:
    bucket = buckets[(payout.currency, payout.amount_minor)]
    if bucket is None:
        return None
    names = [n.lower() for n in (payout.trace_id, payout.id) if n]
    best: BankLine | None = None
    for line in bucket.window(payout.arrival_date):
        if line.key in taken:
            continue
        if by_reference and not any(n in f"{line.reference} {line.text}".lower() for n in names):
            continue
        if best is None or _distance(line, payout) < _distance(best, payout):
            best = line
    return best


def _distance(line: BankLine, payout: Payout) -> int:
    return abs((line.posted_on - payout.arrival_date).days)


def overdue(payouts: Iterable[Payout], *, covered_through: date) -> list[Payout]:
    """Payouts whose whole posting window the bank's statements cover, still without a line."""
    return [p for p in payouts
            if p.status not in NOT_ARRIVING and p.arrival_date + LATE <= covered_through]
