"""`closebot sync --once`: the scheduler's jobs in one pass, with progress and a verdict.

The pass fails (exit 1) when a job could not finish or when any system refused closebot's
credentials, even on a single step: the person running it learns which system and which
setting, in one line, instead of a zero exit code over a pile of exceptions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.cli_support import refusal_line
from app.jobs import run_job_recorded
from app.progress import Quiet, Steps
from app.settings import Settings
from storage import queue
from storage.db import transaction
from storage.tables import Approval, SyncException, WorkItem
from sync.engine.runtime import Runtime
from sync.engine.telemetry import METRICS
from sync.engine.worker import run_until_idle
from sync.errors import CredentialsRefused, SyncError

PHASES = (
    ("intake", "Reading closed-won deals from Salesforce", "deals"),
    ("worker", "Billing, posting and writing back", "work items"),
    ("billing_events", "Reading invoice events from Stripe", "invoices"),
    ("worker", "Posting invoices and writing back", "work items"),
    # Last, so an invoice posted in this pass has its schedule before what is due is posted.
    ("revenue", "Recognizing revenue due", "periods"),
)
JOB_NAMES = {"intake": "reading deals from Salesforce", "worker": "the work queue",
             "billing_events": "reading Stripe events", "revenue": "recognizing revenue"}
CALLS = "closebot_external_calls_total"


@dataclass
class PassResult:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, Exception]] = field(default_factory=list)
    refused: dict[str, CredentialsRefused | str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.refused

    def verdict(self, settings: Settings) -> str:
        """One line: what refused or failed, what to fix, and what to do about the deals that
        failed meanwhile."""
        parts = [refusal_line(error, settings) for error in self.refused.values()]
        for name, error in self.failures:
            if isinstance(error, CredentialsRefused):
                continue
            reason = error.reason if isinstance(error, SyncError) else (
                f"{type(error).__name__}: {error}")
            parts.append(f"{JOB_NAMES.get(name, name)} failed: {reason}")
        line = "; ".join(parts)
        if self.refused and self.counts.get("worker.exception"):
            line += ("; then retry the deals that failed meanwhile: `closebot exceptions list`, "
                     "`closebot exceptions retry <id> --as <your Slack ID>`")
        return line


def run_pass(rt: Runtime, steps: Steps | None = None) -> PassResult:
    steps = steps or Quiet()
    before = METRICS.sum_by(CALLS, "system", outcome=CredentialsRefused.__name__)
    result = PassResult()
    for name, label, unit in PHASES:
        job = None
        if name == "worker":
            steps.phase(label, unit=unit, total=_due(rt))

            def job(rt: Runtime) -> Counter[str]:
                handled = 0

                def on_round(counts: Counter[str]) -> None:
                    # Steps arm their successors, so the total grows while the queue drains.
                    nonlocal handled
                    handled += sum(counts.values())
                    steps.advance(sum(counts.values()), total=handled + _due(rt))

                return run_until_idle(rt, on_round=on_round)
        else:
            steps.phase(label, unit=unit)
        run = run_job_recorded(rt, name, job)
        if name != "worker":
            steps.advance(sum(v for k, v in run.counts.items() if k not in ("pages", "ignored")))
        steps.finish()
        result.counts.update({f"{name}.{k}": v for k, v in run.counts.items()})
        if run.error is not None:
            result.failures.append((name, run.error))
            if isinstance(run.error, CredentialsRefused):
                result.refused[run.error.system] = run.error
    after = METRICS.sum_by(CALLS, "system", outcome=CredentialsRefused.__name__)
    for system, count in after.items():
        if count > before.get(system, 0):
            result.refused.setdefault(system, system)
    return result


def _due(rt: Runtime) -> int:
    now = rt.now()
    with transaction(rt.sessions) as session:
        return session.scalar(select(func.count()).select_from(WorkItem).where(or_(
            (WorkItem.status == queue.PENDING) & (WorkItem.next_attempt_at <= now),
            WorkItem.status == queue.RUNNING))) or 0


def summary(rt: Runtime, counts: Counter[str]) -> list[str]:
    """The pass in words, and what is waiting for a person."""
    with transaction(rt.sessions) as session:
        open_exceptions = session.scalar(select(func.count()).select_from(SyncException).where(
            SyncException.status == "open")) or 0
        pending = session.scalar(select(func.count()).select_from(Approval).where(
            Approval.status == "pending")) or 0
    c = counts.get
    return [
        f"Salesforce     {_n(c('intake.accepted', 0), 'deal')} taken in, "
        f"{c('intake.invalid', 0)} failed validation, {c('intake.awaiting_approval', 0)} held "
        f"for approval, {c('intake.unchanged', 0)} unchanged",
        f"work items     {c('worker.done', 0)} done, {c('worker.retry', 0)} to retry later, "
        f"{c('worker.exception', 0)} became exceptions",
        f"Stripe         {_n(c('billing_events.applied', 0), 'invoice update')} applied, "
        f"{c('billing_events.unknown_deal', 0)} skipped (deals this database never took in)",
        f"revenue        {_n(c('revenue.recognized', 0), 'period')} recognized",
        f"waiting        {_n(open_exceptions, 'open exception')} (closebot exceptions list), "
        f"{_n(pending, 'approval')} (closebot approvals list)",
    ]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
