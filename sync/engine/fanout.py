"""A claimed batch's external calls with up to `width` in flight at once.

A system that allows several requests in flight (NetSuite's and Sage Intacct's concurrency
limits) is used at its limit only if closebot keeps that many requests open; one item at a time
leaves all but one slot idle while it waits on the network. Items are grouped into lanes by a
key (the opportunity): a lane's items run in turn, in batch order, so two versions of one deal
never race; lanes run side by side on a bounded pool. Each item keeps its own idempotency (the
effect is the same function either way), and results come back in batch order, so recording is
unchanged.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
NOT_STARTED = object()  # an item left alone because `stop()` said so before it began


def run_lanes(
    items: list[Item],
    effect: Callable[[Item], Result],
    *,
    key: Callable[[Item], Hashable],
    width: int,
    stop: Callable[[], bool] = lambda: False,
) -> list[tuple[Item, object]]:
    """`effect(item)` for each item, up to `width` lanes at once; per item its result, the
    exception it raised, or `NOT_STARTED`, in the order of `items`."""
    results: list[object] = [NOT_STARTED] * len(items)
    lanes: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        lanes.setdefault(key(item), []).append(index)

    def run_lane(indexes: list[int]) -> None:
        for index in indexes:
            if stop():
                return
            try:
                results[index] = effect(items[index])
            except Exception as error:  # recorded by the caller as the item's failure
                results[index] = error

    if width <= 1 or len(lanes) <= 1:
        run_lane(list(range(len(items))))  # in turn, in batch order, as one lane
    else:
        pending = list(lanes.values())
        taken = threading.Lock()

        def worker() -> None:
            while True:
                with taken:
                    if not pending:
                        return
                    indexes = pending.pop(0)
                run_lane(indexes)

        # Each thread runs in a copy of the caller's context, so log correlation ids and the
        # dry run's flags carry over.
        with ThreadPoolExecutor(max_workers=min(width, len(lanes)),
                                thread_name_prefix="closebot-fanout") as pool:
            futures = [pool.submit(contextvars.copy_context().run, worker)
                       for _ in range(min(width, len(lanes)))]
            for future in futures:
                future.result()
    return list(zip(items, results, strict=True))
