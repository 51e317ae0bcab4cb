"""Scheduled jobs: small functions, each wrapped once with a sync-run row and logging.

The same functions run under APScheduler and under `closebot sync --once`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from app import sandbox_clock
from storage.db import transaction
from storage.tables import SyncRun
from storage.timeutil import utcnow
from sync.cash.run import run_cash
from sync.engine import cash_alerts
from sync.engine.billing_events import poll_events
from sync.engine.intake import run_intake
from sync.engine.runtime import Runtime
from sync.engine.telemetry import METRICS, correlation
from sync.engine.webhooks import reconcile_open_invoices
from sync.engine.worker import run_until_idle
from sync.errors import SyncError
from sync.ops.reconcile import run_reconciliation

log = logging.getLogger("closebot.jobs")


def recognize_revenue(rt: Runtime) -> Counter[str]:
    """Post every revenue schedule row due by today (the embedded ledger keeps the schedules);
    in a sandbox moved by `closebot sandbox advance`, today is that many days later."""
    ledger = getattr(rt.erp, "ledger", None)
    if ledger is None:
        return Counter()
    with transaction(rt.sessions) as session:
        ahead = timedelta(days=sandbox_clock.days_ahead(session))
    return Counter({"recognized": ledger.recognize_revenue(through=rt.now().date() + ahead)})

def reconcile_cash(rt: Runtime) -> Counter[str]:
    """Every payout of the last weeks decomposed and booked (`sync.cash`), the company's Stripe
    account's and each legal entity's own into its own books; a replay books nothing twice, so
    the window overlaps the previous run's on purpose."""
    accounts = [*([rt.cash] if rt.cash is not None else []), *rt.entity_cash.values()]
    if not accounts:
        return Counter()
    since = rt.now().date() - timedelta(days=CASH_WINDOW_DAYS)
    counts: Counter[str] = Counter()
    for cash in accounts:
        run = run_cash(cash.reads, cash.erp, rt.sessions, arrival_gte=since)
        counts.update({"payouts": run.payouts, "settled": run.settled,
                       "transactions": run.transactions})
    counts["cash_exceptions"] = cash_alerts.surface(rt.sessions)
    return counts


CASH_WINDOW_DAYS = 35
Job = Callable[[Runtime], Counter[str]]
JOBS: dict[str, tuple[str, Job]] = {
    "intake": ("salesforce", run_intake),
    "worker": ("engine", run_until_idle),
    "billing_events": ("stripe", poll_events),
    "reconcile": ("stripe", reconcile_open_invoices),
    "revenue": ("erp", recognize_revenue),
    "cash": ("stripe", reconcile_cash),
    # The money audit across every system, its variances raised as exceptions (alerts).
    "books_reconciliation": ("audit", run_reconciliation),
}
# Jobs that must fire once per interval cluster-wide; the queue worker runs on every replica.
SINGLETON_JOBS = ("intake", "billing_events", "reconcile", "revenue", "books_reconciliation",
                  "cash")


@dataclass
class JobRun:
    """What one run of a job did, and the error that ended it early (None when it finished)."""

    counts: Counter[str] = field(default_factory=Counter)
    error: Exception | None = None


def run_job(rt: Runtime, name: str) -> Counter[str]:
    """Run one job and record it; a failure is logged and recorded, never raised."""
    return run_job_recorded(rt, name).counts


def run_job_recorded(rt: Runtime, name: str, func: Job | None = None) -> JobRun:
    """`run_job`, keeping the error for a caller that reports it (`closebot sync --once`);
    `func` stands in for the job's function, e.g. the worker with a progress callback."""
    system, default = JOBS[name]
    func = func or default
    counts: Counter[str] = Counter()
    try:
        with transaction(rt.sessions) as session:
            run = SyncRun(job=name, system=system, status="running")
            session.add(run)
            session.flush()
            run_id = run.id
    except Exception as exc:
        # The database is down or locked: skip this run; the next one picks up where it left.
        log.exception("job %s skipped: the database is unavailable", name)
        METRICS.inc("closebot_job_runs_total", job=name, status="skipped")
        return JobRun(counts, exc)
    status, error, failure = "ok", None, None
    with correlation(job=name, sync_run=run_id):
        try:
            counts = func(rt)
        except SyncError as exc:
            # A system is down or refusing: the reason is enough, the stack trace is noise.
            status, error, failure = "failed", exc.reason, exc
            log.warning("job %s failed: %s", name, exc.reason)
        except Exception as exc:
            status, error, failure = "failed", f"{type(exc).__name__}: {exc}", exc
            log.exception("job %s failed", name)
    METRICS.inc("closebot_job_runs_total", job=name, status=status)
    try:
        with transaction(rt.sessions) as session:
            row = session.get(SyncRun, run_id)
            if row is not None:
                row.status, row.error = status, error
                row.finished_at = utcnow()
                row.counts = dict(counts)
    except Exception:
        log.exception("could not record the end of job %s", name)
    return JobRun(counts, failure)


def sync_once(rt: Runtime) -> Counter[str]:
    """One full pass: intake, work, billing events, work again (the scheduler, compressed)."""
    totals: Counter[str] = Counter()
    for name in ("intake", "worker", "billing_events", "worker"):
        totals.update({f"{name}.{k}": v for k, v in run_job(rt, name).items()})
    return totals
