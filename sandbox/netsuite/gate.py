"""NetSuite's concurrency governance: a request beyond the account's limit is refused at once."""

from __future__ import annotations

import threading


class ConcurrencyGate:
    """Counts requests in flight; `limit` 0 means no limit."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("concurrency_limit must be 0 (unlimited) or more")
        self.limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        """Take a slot if one is free; a caller that got True must call `leave()`."""
        with self._lock:
            if self.limit and self._in_flight >= self.limit:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight
