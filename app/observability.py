"""Logs, metrics and health: what an operator sees of a running closebot.

- Logs are one JSON object a line, carrying the correlation context (opportunity, work item,
  job) set by the engine, so one deal's journey across jobs and replicas greps as one.
- A filter on the handler masks every configured secret, whichever library logged it.
- `/metrics` renders `sync.engine.telemetry.METRICS` in the Prometheus text format; queue depth,
  queue age and open exceptions are read from the database at scrape time.
- `/healthz` reports database reachability, the last scheduler/worker heartbeat and queue age.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import func, select, text

from storage.db import transaction
from storage.tables import SyncException, WorkItem
from storage.timeutil import aware, utcnow
from sync.engine.telemetry import LATENCY_BUCKETS, METRICS, current_context

REDACTED = "[REDACTED]"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_HEARTBEAT: dict[str, float] = {}
HEARTBEAT_STALE_S = 120.0


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_context(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value
        if body.get("opportunity_id"):
            # A line about one deal belongs to that deal's journey, whichever job logged it.
            body["correlation_id"] = body["opportunity_id"]
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already rendered (and scrubbed) by the redacting filter
            body["exc"] = record.exc_text
        return json.dumps(body, default=str)


class RedactingFilter(logging.Filter):
    """Replaces secret values in the final message, its arguments and any extra fields."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def scrub(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        if record.exc_info:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(
    secrets: list[str], *, level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """One JSON handler on the root logger; returns it so tests can detach it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def beat(component: str = "worker") -> None:
    """Called by the worker loop and the scheduler each tick; `/healthz` reads it."""
    _HEARTBEAT[component] = time.time()


def queue_stats(rt: Any) -> dict[str, float]:
    now = utcnow()
    with transaction(rt.sessions) as session:
        waiting = select(WorkItem).where(WorkItem.status.in_(("pending", "running")),
                                         WorkItem.next_attempt_at <= now)
        depth = session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
        oldest = session.scalar(
            select(func.min(WorkItem.next_attempt_at)).where(
                WorkItem.status.in_(("pending", "running")), WorkItem.next_attempt_at <= now
            )
        )
        open_exc = session.scalar(
            select(func.count()).select_from(SyncException).where(SyncException.status == "open")
        ) or 0
    age = (now - aware(oldest)).total_seconds() if oldest else 0.0
    return {"queue_depth": depth, "queue_age_s": max(age, 0.0), "open_exceptions": open_exc}


def healthz(rt: Any) -> dict[str, Any]:
    """Health for `/healthz`: `ok` is False when the database is unreachable or the
    scheduler/worker has not ticked for `HEARTBEAT_STALE_S` seconds."""
    result: dict[str, Any] = {"database": "ok"}
    try:
        with transaction(rt.sessions) as session:
            session.execute(text("SELECT 1"))
        result.update(queue_stats(rt))
    except Exception as error:
        result["database"] = f"unreachable: {type(error).__name__}"
    last = max(_HEARTBEAT.values(), default=None)
    age = time.time() - last if last else None
    result["scheduler"] = "alive" if age is not None and age < HEARTBEAT_STALE_S else "stale"
    result["scheduler_last_tick_s"] = round(age, 1) if age is not None else None
    result["ok"] = result["database"] == "ok" and result["scheduler"] == "alive"
    return result


def render_metrics(rt: Any | None = None) -> str:
    """Prometheus text exposition (version 0.0.4) of the registry, plus queue gauges if `rt`."""
    if rt is not None:
        try:
            for name, value in queue_stats(rt).items():
                METRICS.set(f"closebot_{name}", value)
        except Exception:
            METRICS.set("closebot_database_up", 0)
        else:
            METRICS.set("closebot_database_up", 1)
    lines: list[str] = []
    typed: set[str] = set()

    def head(name: str, kind: str) -> None:
        if name not in typed:
            typed.add(name)
            lines.append(f"# TYPE {name} {kind}")

    for (name, labels), value in sorted(METRICS.counters.items()):
        head(name, "counter")
        lines.append(f"{name}{_labels(labels)} {value:g}")
    for (name, labels), value in sorted(METRICS.gauges.items()):
        head(name, "gauge")
        lines.append(f"{name}{_labels(labels)} {value:g}")
    for (name, labels), row in sorted(METRICS.histograms.items()):
        head(name, "histogram")
        for bound, count in zip(LATENCY_BUCKETS, row, strict=False):
            lines.append(f"{name}_bucket{_labels(labels, le=f'{bound:g}')} {count:g}")
        lines.append(f"{name}_bucket{_labels(labels, le='+Inf')} {row[-2]:g}")
        lines.append(f"{name}_count{_labels(labels)} {row[-2]:g}")
        lines.append(f"{name}_sum{_labels(labels)} {row[-1]:.6f}")
    return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...], **extra: str) -> str:
    pairs = list(labels) + list(extra.items())
    if not pairs:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, escaped, strict=True)) + "}"
