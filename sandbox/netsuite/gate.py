"""NetSuite's concurrency governance: a request beyond the account's limit is refused at once."""

from __future__ import annotations

import threading
import time


class ConcurrencyGate:
    """Counts requests in flight; `limit` 0 means no limit.

    `latency_s` is how long each admitted request holds its slot, its own work included, as
    the real services' round trips do (hundreds of milliseconds): with it, a client's throughput is
    bounded by `limit / latency_s`, and benchmarks can measure how much of that a client uses.
    `peak` is the most requests ever in flight at once."""

    def __init__(self, limit: int, latency_s: float = 0.0) -> None:
        if limit < 0:
            raise ValueError("concurrency_limit must be 0 (unlimited) or more")
        self.limit = limit
        self.latency_s = latency_s
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._entered = threading.local()  # when this thread's request took its slot

    def enter(self) -> bool:
        """Take a slot if one is free; a caller that got True must call `leave()`."""
        with self._lock:
            if self.limit and self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        self._entered.at = time.perf_counter()
        return True

    def leave(self) -> None:
        """Free the slot, once the request has held it for `latency_s` (its work included)."""
        if self.latency_s > 0:
            held = time.perf_counter() - getattr(self._entered, "at", 0.0)
            if held < self.latency_s:
                time.sleep(self.latency_s - held)
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight
