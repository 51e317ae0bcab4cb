"""The worker process: `closebot worker` (or `python -m app.worker_process`).

One loop per process, any number of processes per database:
- every tick it drains due work items (every replica does; the queue hands each item to one);
- the scheduled jobs (intake, billing events, reconciliations) run only on the replica that wins
  their interval slot in `job_leases` (see `sync.engine.leader`), so they fire once cluster-wide;
- SIGTERM (or SIGINT) sets a flag: the step in hand finishes, the rest of the claimed batch is
  handed back with `queue.release_all`, and the process exits 0. A SIGKILL skips all of that,
  and the item's lease simply expires (`LEASE_S`) and another replica takes it over.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from datetime import timedelta

from app.jobs import SINGLETON_JOBS, run_job
from app.observability import beat, configure_logging, render_metrics
from app.settings import Settings
from storage import queue
from storage.db import transaction
from sync.engine import leader
from sync.engine.runtime import Runtime
from sync.engine.telemetry import correlation
from sync.engine.worker import run_until_idle

log = logging.getLogger("closebot.worker")


def job_intervals(settings: Settings) -> dict[str, float]:
    return {
        "intake": settings.intake_interval_s,
        "billing_events": settings.events_interval_s,
        "reconcile": settings.reconcile_interval_s,
        "books_reconciliation": settings.reconcile_audit_interval_s,
        # Payouts booked as often as open invoices are reconciled, as the scheduler does.
        "cash": settings.reconcile_interval_s,
    }


def tick(rt: Runtime, settings: Settings, stop: threading.Event) -> Counter[str]:
    """One pass: the cluster-wide jobs this replica wins, then the due work."""
    beat("worker")
    counts: Counter[str] = Counter()
    for name, interval in job_intervals(settings).items():
        if stop.is_set():
            break
        assert name in SINGLETON_JOBS
        ran = leader.run_once_cluster_wide(
            rt.sessions, name, lambda n=name: run_job(rt, n), owner=rt.worker_id,
            interval_s=interval, ttl=timedelta(seconds=settings.job_lease_s),
        )
        if ran is not None:
            counts.update({f"{name}.{k}": v for k, v in ran.items()})
    if not stop.is_set():
        with correlation(job="worker"):
            counts.update(run_until_idle(rt, should_stop=stop.is_set))
    return counts


def release(rt: Runtime) -> int:
    """Hand back whatever this worker still holds, so no item waits for a lease to expire."""
    with transaction(rt.sessions) as session:
        released = queue.release_all(session, rt.worker_id)
    if released:
        log.info("released %d leased items on shutdown", released)
    return released


def run(rt: Runtime, settings: Settings, stop: threading.Event) -> None:
    """Loop until `stop` is set; sleep the worker interval whenever a tick found nothing to do."""
    log.info("worker started", extra={"worker": rt.worker_id})
    try:
        while not stop.is_set():
            try:
                counts = tick(rt, settings, stop)
            except Exception:
                # A database blip must not end the process; the next tick tries again.
                log.exception("worker tick failed")
                counts = Counter()
            if not counts:
                stop.wait(settings.worker_interval_s)
    finally:
        release(rt)
        log.info("worker stopped", extra={"worker": rt.worker_id})


def install_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


def main() -> None:
    from app.wiring import build_runtime, open_database

    settings = Settings()
    if settings.log_json:
        configure_logging(settings.secrets())
    _, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    stop = threading.Event()
    install_signals(stop)
    run(rt, settings, stop)
    log.debug("final metrics\n%s", render_metrics())


if __name__ == "__main__":
    main()
