"""What the engine reports about itself: a correlation context for logs and a metrics registry.

Kept free of any web or logging framework so the engine can report without importing `app/`.
`app.observability` renders both: JSON log lines carry the context, `/metrics` the registry.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator
from typing import Any

from sync.dates import Sample

_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "closebot_context", default={}  # noqa: B039 - never mutated, only replaced
)
# Set inside a dry run: what it does is not work done, so no metric counts it.
_UNMETERED: contextvars.ContextVar[bool] = contextvars.ContextVar("closebot_unmetered",
                                                                  default=False)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def current_context() -> dict[str, Any]:
    return _CONTEXT.get()


@contextlib.contextmanager
def correlation(**ids: Any) -> Iterator[dict[str, Any]]:
    """Tag every log line inside with these ids; the correlation id is the opportunity's when
    there is one, so one deal's journey across jobs, workers and retries greps as one."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in ids.items() if v is not None}}
    merged.setdefault("correlation_id", merged.get("opportunity_id") or merged.get("job"))
    token = _CONTEXT.set(merged)
    try:
        yield merged
    finally:
        _CONTEXT.reset(token)


@contextlib.contextmanager
def unmetered() -> Iterator[None]:
    """Leave every metric as it is for what runs inside (in this thread or task only)."""
    token = _UNMETERED.set(True)
    try:
        yield
    finally:
        _UNMETERED.reset(token)


class Registry:
    """Counters, gauges and latency histograms keyed by (name, sorted labels)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.histograms: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
        self.help: dict[str, str] = {}

    @staticmethod
    def _key(name: str, labels: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return name, tuple(sorted((k, str(v)) for k, v in labels.items()))

    def inc(self, name: str, amount: Sample = 1.0, **labels: str) -> None:
        if _UNMETERED.get():
            return
        key = self._key(name, labels)
        with self._lock:
            self.counters[key] = self.counters.get(key, 0.0) + amount

    def set(self, name: str, value: Sample, **labels: str) -> None:
        if _UNMETERED.get():
            return
        with self._lock:
            self.gauges[self._key(name, labels)] = Sample(value)

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        if _UNMETERED.get():
            return
        key = self._key(name, labels)
        with self._lock:
            # Layout: one count per bucket, then +Inf count, then the sum.
            row = self.histograms.setdefault(key, [0.0] * (len(LATENCY_BUCKETS) + 2))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1
            row[-1] += seconds

    def value(self, name: str, **labels: str) -> Sample:
        key = self._key(name, labels)
        with self._lock:
            return self.counters.get(key, self.gauges.get(key, 0.0))

    def sum_by(self, name: str, label: str, **match: str) -> dict[str, float]:
        """Counter `name` summed per value of `label`, over the series carrying `match`."""
        out: dict[str, float] = {}
        with self._lock:
            for (series, labels), value in self.counters.items():
                found = dict(labels)
                if series == name and label in found and all(
                        found.get(k) == v for k, v in match.items()):
                    out[found[label]] = out.get(found[label], 0.0) + value
        return out

    def clear(self) -> None:
        with self._lock:
            self.counters.clear()
            self.gauges.clear()
            self.histograms.clear()


METRICS = Registry()


def instrument(connector: Any, system: str) -> Any:
    """Time every vendor call of a connector (its single `_call` choke point) by system and kind.

    Connectors route each request through `_call(kind, func, ...)`, so wrapping that one method
    measures latency and errors without touching vendor SDKs.
    """
    inner = connector._call

    def timed(kind: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return inner(kind, *args, **kwargs)
        except Exception as error:
            outcome = type(error).__name__
            raise
        finally:
            METRICS.observe("closebot_external_call_seconds", time.perf_counter() - started,
                            system=system)
            METRICS.inc("closebot_external_calls_total", system=system, call=kind,
                        outcome=outcome)

    connector._call = timed
    return connector
