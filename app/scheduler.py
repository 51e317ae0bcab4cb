"""APScheduler wiring: explicit ids, one instance at a time, coalesced misfires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from app.jobs import SINGLETON_JOBS, run_job
from app.observability import beat
from sync.dates import Seconds
from sync.engine import leader
from sync.engine.runtime import Runtime


def run_scheduled(
    rt: Runtime, name: str, interval_s: Seconds, lease_s: Seconds = 900.0
) -> None:
    """Run a job here if it is a per-replica job, or if this replica wins its cluster-wide slot."""
    beat("scheduler")
    if name not in SINGLETON_JOBS:
        run_job(rt, name)
        return
    leader.run_once_cluster_wide(
        rt.sessions, name, lambda: run_job(rt, name), owner=rt.worker_id,
        interval_s=interval_s, ttl=timedelta(seconds=lease_s),
    )


def build_scheduler(
    rt: Runtime,
    *,
    intake_s: Seconds,
    worker_s: Seconds,
    events_s: Seconds | None = None,
    reconcile_s: Seconds = 3600.0,
    revenue_s: Seconds = 6 * 3600.0,
    books_s: Seconds | None = 86_400.0,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    intervals = {"intake": intake_s, "worker": worker_s, "billing_events": events_s or intake_s,
                 "reconcile": reconcile_s, "revenue": revenue_s}
    if rt.cash is not None:  # payouts booked as often as Stripe's daily payouts need
        intervals["cash"] = reconcile_s
    if books_s:  # the money reconciliation; the demo leaves it out
        intervals["books_reconciliation"] = books_s
    for name, seconds in intervals.items():
        scheduler.add_job(run_scheduled, "interval", seconds=seconds, args=[rt, name, seconds],
                          id=name, next_run_time=_now(), **common)
    return scheduler


def _now() -> datetime:
    return datetime.now(UTC)
