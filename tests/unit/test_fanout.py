"""A batch's effects with several in flight: lanes run side by side up to the width, one lane's
items run in turn and in order, results come back in batch order, a failure stays with its
item, and after `stop()` nothing new starts."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter

from sync.engine.fanout import NOT_STARTED, run_lanes


class InFlight:
    """Counts effects running at once, overall and per lane; each waits until `width` are in
    flight together (or a short timeout), so the peak shows what the fan-out allows."""

    def __init__(self, width: int) -> None:
        self.now = 0
        self.peak = 0
        self.per_lane: Counter[str] = Counter()
        self.lane_peak = 0
        self.order: list[str] = []
        self._lock = threading.Lock()
        self._together = threading.Barrier(width)

    def effect(self, item: str) -> str:
        lane = item.split("-")[0]
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.per_lane[lane] += 1
            self.lane_peak = max(self.lane_peak, self.per_lane[lane])
            self.order.append(item)
        # The last few items of a batch have nobody left to wait for.
        with contextlib.suppress(threading.BrokenBarrierError):
            self._together.wait(timeout=0.2)
        with self._lock:
            self.now -= 1
            self.per_lane[lane] -= 1
        if item == "c-2":
            raise ValueError("refused")
        return item.upper()


ITEMS = [f"{lane}-{n}" for lane in "abcdefgh" for n in (1, 2, 3)]


def test_lanes_run_side_by_side_up_to_the_width_and_results_keep_batch_order() -> None:
    meter = InFlight(width=4)
    results = run_lanes(ITEMS, meter.effect, key=lambda item: item.split("-")[0], width=4)
    assert meter.peak == 4  # never more than the width, and the width is used
    assert meter.lane_peak == 1  # a lane's items never overlap
    for lane in "abcdefgh":  # ... and run in batch order
        assert [i for i in meter.order if i.startswith(lane)] == [f"{lane}-{n}" for n in (1, 2, 3)]
    assert [item for item, _ in results] == ITEMS
    failed = dict(results)["c-2"]
    assert isinstance(failed, ValueError)
    assert all(result == item.upper() for item, result in results if item != "c-2")


def test_width_one_is_the_batch_in_turn() -> None:
    meter = InFlight(width=1)
    results = run_lanes(ITEMS, meter.effect, key=lambda item: item.split("-")[0], width=1)
    assert meter.peak == 1 and meter.order == ITEMS
    assert [item for item, _ in results] == ITEMS


def test_nothing_starts_after_stop() -> None:
    started: list[str] = []
    stopping = threading.Event()

    def effect(item: str) -> str:
        started.append(item)
        if len(started) == 5:
            stopping.set()
        return item

    results = run_lanes(ITEMS, effect, key=lambda item: item.split("-")[0], width=3,
                        stop=stopping.is_set)
    done = [item for item, result in results if result is not NOT_STARTED]
    assert sorted(done) == sorted(started)
    # Each running lane finishes the item in hand, and nothing more: at most 5 + 2 ran.
    assert 5 <= len(started) <= 7 < len(ITEMS)
