"""Balance transactions and the running balance they add up to.

Every movement of funds is a balance transaction (`txn_…`) with Stripe's `type` and
`reporting_category`: a charge (`charge`/`charge`, the fee inside its `fee` and `fee_details`), a
refund (`refund`/`refund`), a refund that failed (`adjustment`/`refund_failure`), a dispute
(`adjustment`/`dispute`), a won dispute (`adjustment`/`dispute_reversal`), a payout
(`payout`/`payout`) and a failed payout (`payout_failure`/`payout_reversal`). Funds are `pending`
until `available_on`, then `available`.

The totals by currency and status are kept as transactions are added or become available, so
`GET /v1/balance` and the payout sweep never rescan every transaction. Each available transaction
not yet swept into a payout waits in `unswept`; the sweep takes them all, so the transactions of a
payout (its own negative one included) add up to zero, as Stripe's payout reconciliation does.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sandbox.stripe.fees import fee_details
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State

_KEY = "__balance__"
_ORDER = itertools.count()


def _books(st: State) -> dict[str, Any]:
    books = st.internal.get(_KEY)
    if books is None:
        books = st.internal[_KEY] = {
            "available": defaultdict(int), "pending": defaultdict(int),
            "waiting": [], "unswept": defaultdict(list), "payout_of": {},
            "by_payout": {},
        }
    return books


def record(st: State, *, amount: int, currency: str, source: str, type: str,
           category: str | None = None, fee: int = 0,
           fee_description: str = "Stripe processing fees", description: str | None = None,
           available_on: int | None = None, payout: str | None = None) -> dict[str, Any]:
    """Add a balance transaction; it is `available` at once unless `available_on` is later.
    `payout` names the payout it belongs to already (a payout's own transaction)."""
    when = st.now if available_on is None else available_on
    txn = st.add(build(
        "balance_transaction", id=new_id("balance_transaction"), created=st.now,
        amount=amount, fee=fee, fee_details=fee_details(fee, currency, fee_description),
        net=amount - fee, currency=currency, available_on=when,
        status="pending" if when > st.now else "available", source=source, type=type,
        reporting_category=category or type, description=description,
    ))
    books = _books(st)
    if payout is not None:
        books["available"][currency] += txn["net"]
        books["payout_of"][txn["id"]] = payout
        books["by_payout"].setdefault(payout, []).append(txn)
    elif txn["status"] == "pending":
        books["pending"][currency] += txn["net"]
        # a heap on (available_on, creation order): the clock finds the next release in O(1)
        heapq.heappush(books["waiting"], (when, next(_ORDER), txn))
    else:
        _settle(books, txn)
    return txn


def _settle(books: dict[str, Any], txn: dict[str, Any]) -> None:
    books["available"][txn["currency"]] += txn["net"]
    books["unswept"][txn["currency"]].append(txn)


def next_release(st: State) -> tuple[int, Callable[[], None]] | None:
    """The clock task that makes the earliest pending funds available, if any are pending."""
    waiting = _books(st)["waiting"]
    if not waiting:
        return None
    return waiting[0][0], lambda: release(st)


def release(st: State) -> None:
    books = _books(st)
    waiting = books["waiting"]
    while waiting and waiting[0][0] <= st.now:
        txn = heapq.heappop(waiting)[2]
        txn["status"] = "available"
        books["pending"][txn["currency"]] -= txn["net"]
        _settle(books, txn)


def available(st: State, currency: str) -> int:
    return int(_books(st)["available"][currency])


def totals(st: State) -> dict[str, dict[str, int]]:
    """{"available": {currency: amount}, "pending": {…}} for `GET /v1/balance`."""
    books = _books(st)
    return {status: dict(books[status]) for status in ("available", "pending")}


def currencies_to_sweep(st: State) -> list[str]:
    return sorted(c for c, rows in _books(st)["unswept"].items() if rows)


def sweep(st: State, currency: str, payout_id: str) -> list[dict[str, Any]]:
    """Take every available transaction in `currency` not yet paid out, for payout `payout_id`."""
    books = _books(st)
    rows = books["unswept"].pop(currency, [])
    for txn in rows:
        books["payout_of"][txn["id"]] = payout_id
    books["by_payout"][payout_id] = list(rows)
    return rows


def payout_of(st: State, txn_id: str) -> str | None:
    """The automatic payout that carried this balance transaction to the bank, if any yet."""
    return _books(st)["payout_of"].get(txn_id)


def of_payout(st: State, payout_id: str) -> list[dict[str, Any]]:
    """The balance transactions a payout carried, its own included (empty for an unknown id)."""
    return list(_books(st)["by_payout"].get(payout_id, []))
