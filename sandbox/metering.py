"""API calls an emulator served, by kind: what benchmarks and tests count."""

from __future__ import annotations

import threading


class CallMeter:
    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._meter = threading.Lock()

    @property
    def calls(self) -> dict[str, int]:
        """API calls so far by kind (a copy)."""
        with self._meter:
            return dict(self._calls)

    def reset_calls(self) -> None:
        with self._meter:
            self._calls.clear()

    def count(self, kind: str) -> None:
        with self._meter:
            self._calls[kind] = self._calls.get(kind, 0) + 1
