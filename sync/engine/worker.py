"""The queue worker: lease due items, run their step, and record success, retry or exception.

Transient failures back off exponentially with full jitter (honouring Retry-After) up to
`max_attempts`; permanent failures and exhausted retries become exceptions for a person.
Nothing is dropped: every item ends done, held for approval, or as an open exception.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage import audit, queue
from storage.db import transaction
from storage.tables import Deal, WorkItem
from storage.timeutil import aware
from sync.engine import bill, credit, exceptions, post, post_load, post_record
from sync.engine.fanout import NOT_STARTED, run_lanes
from sync.engine.runtime import Runtime, log
from sync.engine.telemetry import METRICS, correlation
from sync.engine.work import Recorded, StepInput, with_open_exceptions
from sync.engine.writeback import desired_updates
from sync.errors import PermanentError, SyncError, TransientError

SYSTEM_OF = {"bill": "stripe", "post": "erp", "credit": "stripe", "writeback": "salesforce"}
LOADERS: dict[str, Callable[[Runtime, list[StepInput]], Any]] = {
    "bill": bill.load_bills,
    "post": post_load.load_posts,
    "credit": credit.load_credits,
}
EFFECTS: dict[str, Callable[[Runtime, StepInput, Any], Any]] = {
    "bill": bill.bill_effect,
    "post": post.post_effect,
    "credit": credit.credit_effect,
}
RECORDERS: dict[str, Callable[[Runtime, list[Any]], Recorded]] = {
    "bill": bill.record_bills,
    "post": post_record.record_posts,
    "credit": credit.record_credits,
}
LABELS = {"bill": "billed in Stripe", "post": "posted to the ERP", "credit": "credited",
          "writeback": "written back to Salesforce"}


def run_until_idle(
    rt: Runtime, *, max_rounds: int = 1_000_000, should_stop: Callable[[], bool] | None = None,
    on_round: Callable[[Counter[str]], None] | None = None,
) -> Counter[str]:
    """Process due work until none is left (items waiting for a retry later are left waiting).

    `on_round` sees each round's outcomes (one per item handled), e.g. for a progress bar."""
    totals: Counter[str] = Counter()
    for _ in range(max_rounds):
        counts = run_once(rt, should_stop=should_stop)
        totals.update(counts)
        if on_round is not None:
            on_round(counts)
        if not counts or (should_stop is not None and should_stop()):
            break
    return totals


def run_once(rt: Runtime, *, should_stop: Callable[[], bool] | None = None) -> Counter[str]:
    """One claim-and-run round. `should_stop` is checked between items: on shutdown the item in
    hand finishes and the rest of the claimed batch stays leased for `queue.release_all`."""
    stop = should_stop or (lambda: False)
    counts: Counter[str] = Counter()
    for step_name in ("bill", "post", "credit"):
        if stop():
            return counts
        batch = _claim(rt, step_name, rt.config.batch_size)
        if batch:
            counts.update(_run_batch(rt, step_name, batch, stop))
    if stop():
        return counts
    batch = _claim(rt, "writeback", min(rt.config.batch_size, 200))
    if batch:
        counts.update(_run_writeback(rt, batch))
    return counts


def run_items(rt: Runtime, step_name: str, item_ids: list[int]) -> Counter[str]:
    """Run these items now if they are due and free (a decision just made in Slack); otherwise
    the worker runs them in its next round, as it would anyway."""
    batch = _claim(rt, step_name, len(item_ids), only=item_ids)
    return _run_batch(rt, step_name, batch, lambda: False) if batch else Counter()


def _claim(rt: Runtime, step_name: str, limit: int,
           only: list[int] | None = None) -> list[StepInput]:
    now = rt.now()
    with transaction(rt.sessions) as session:
        items = queue.claim(
            session, worker=rt.worker_id, lease=rt.config.lease, steps=[step_name],
            limit=limit, now=now, only=only,
        )
        return [_input(rt, item, now) for item in items]


def _input(rt: Runtime, item: WorkItem, now: datetime) -> StepInput:
    first = aware(item.first_attempt_at) or now
    return StepInput(
        item_id=item.id,
        opportunity_id=item.opportunity_id,
        version=item.contract_version,
        attempts=item.attempts,
        # Any earlier attempt may have created something whose answer was lost, and a manual
        # Retry can come after the idempotency key expired: so every retry looks first.
        lookup=first < now or now - first > rt.config.idempotency_window,
        subject=item.step.partition(":")[2],
    )


def _run_batch(
    rt: Runtime, step_name: str, batch: list[StepInput], stop: Callable[[], bool]
) -> Counter[str]:
    """Each item's external effect (several in flight where the system allows it, see
    `fanout`), then all their results in one transaction.

    On shutdown the item in hand finishes and is recorded; the rest stay leased for release.
    If recording fails, every item is retried later: its effect replays idempotently.
    """
    counts: Counter[str] = Counter()
    try:
        loaded = LOADERS[step_name](rt, batch)
    except Exception as error:
        for step in batch:
            outcome = _record_failure(rt, step_name, step, error)
            _count(step_name, outcome)
            counts[outcome] += 1
        return counts
    def effect(step: StepInput) -> Any:
        with correlation(opportunity_id=step.opportunity_id, work_item=step.item_id,
                         step=step_name):
            return EFFECTS[step_name](rt, step, loaded)

    effects: list[Any] = []
    for step, result in run_lanes(batch, effect, key=lambda s: s.opportunity_id,
                                  width=_width(rt, step_name), stop=stop):
        if result is NOT_STARTED:
            continue
        if not isinstance(result, Exception):
            effects.append(result)
            continue
        with correlation(opportunity_id=step.opportunity_id, work_item=step.item_id,
                         step=step_name):
            outcome = _record_failure(rt, step_name, step, result)
        _count(step_name, outcome)
        counts[outcome] += 1
    if not effects:
        return counts
    try:
        recorded = RECORDERS[step_name](rt, effects)
    except Exception as error:
        for effect in effects:
            outcome = _record_failure(rt, step_name, effect.step, error)
            _count(step_name, outcome)
            counts[outcome] += 1
        return counts
    for effect in effects:
        outcome = recorded.outcomes.get(effect.step.item_id)
        if outcome is None:
            continue
        with correlation(opportunity_id=effect.step.opportunity_id,
                         work_item=effect.step.item_id, step=step_name):
            log.info("step %s", outcome, extra={"outcome": outcome})
        _count(step_name, outcome)
        counts[outcome] += 1
    for step in recorded.duplicates:
        error = PermanentError(
            "it would link a second record in another system to the same deal; check for a "
            "duplicate", system=SYSTEM_OF[step_name],
        )
        outcome = _record_failure(rt, step_name, step, error)
        _count(step_name, outcome)
        counts[outcome] += 1
    return counts


def _width(rt: Runtime, step_name: str) -> int:
    """How many of a batch's items run at once. Posts to an ERP with a concurrency limit: twice
    the connector's share of it, so that while one item builds its next request another is
    already waiting for the slot a finished request frees (the connector itself never has more
    than its share in flight). One at a time elsewhere: Stripe's limit is a rate, and the
    embedded ledger writes to closebot's own database."""
    if step_name != "post":
        return 1
    share = getattr(rt.erp, "concurrency", 1)
    return 2 * share if isinstance(share, int) and share > 1 else 1


def _count(step_name: str, outcome: str) -> None:
    name = {"done": "closebot_items_processed_total", "retry": "closebot_items_retried_total",
            "exception": "closebot_items_failed_total"}.get(outcome)
    if name:
        METRICS.inc(name, system=SYSTEM_OF[step_name], step=step_name)


def _run_writeback(rt: Runtime, batch: list[StepInput]) -> Counter[str]:
    counts: Counter[str] = Counter()
    now = rt.now()
    batch, unknown = _known_deals(rt, batch)
    for step in unknown:
        # Nothing to write for a deal this database never took in (e.g. an invoice of another
        # closebot database's deal armed it); a person sees why instead of a crashed batch.
        error = PermanentError("closebot has no record of this deal in its database, so there "
                               "is nothing to write back", system="engine")
        with correlation(opportunity_id=step.opportunity_id, work_item=step.item_id,
                         step="writeback"):
            outcome = _record_failure(rt, "writeback", step, error)
        _count("writeback", outcome)
        counts[outcome] += 1
    if not batch:
        return counts
    try:
        with transaction(rt.sessions) as session:
            updates = desired_updates(session, [s.opportunity_id for s in batch],
                                      erp=rt.erp.name, now=now)
        results = rt.crm.write_back(list(updates.values()))
    except Exception as error:
        for step in batch:
            with correlation(opportunity_id=step.opportunity_id, work_item=step.item_id,
                             step="writeback"):
                outcome = _record_failure(rt, "writeback", step, error)
            _count("writeback", outcome)
            counts[outcome] += 1
        return counts
    failed = {r.record_id: r.error for r in results if not r.ok}
    accepted = [step for step in batch if step.opportunity_id not in failed]
    with transaction(rt.sessions) as session:
        finished = queue.finish_many(session, [s.item_id for s in accepted], rt.worker_id)
        for opp, _ in with_open_exceptions(
            session, [s for s in accepted if s.item_id in finished]
        ):
            exceptions.resolve(session, opportunity_id=opp, kinds=["writeback"])
    for step in batch:
        with correlation(opportunity_id=step.opportunity_id, work_item=step.item_id,
                         step="writeback"):
            if step.opportunity_id in failed:
                error = PermanentError(
                    f"Salesforce refused the update: {failed[step.opportunity_id]}",
                    system="salesforce",
                )
                outcome = _record_failure(rt, "writeback", step, error)
            else:
                outcome = "done" if step.item_id in finished else "lease_lost"
                log.info("write-back %s", outcome)
        _count("writeback", outcome)
        counts[outcome] += 1
    return counts


def _known_deals(
    rt: Runtime, batch: list[StepInput]
) -> tuple[list[StepInput], list[StepInput]]:
    with transaction(rt.sessions) as session:
        known = set(session.scalars(select(Deal.opportunity_id).where(
            Deal.opportunity_id.in_({s.opportunity_id for s in batch}))))
    return ([s for s in batch if s.opportunity_id in known],
            [s for s in batch if s.opportunity_id not in known])


def backoff(rt: Runtime, attempts: int, retry_after: float | None) -> timedelta:
    ceiling = min(rt.config.backoff_max_s, rt.config.backoff_base_s * 2 ** (attempts - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


def _record_failure(rt: Runtime, step_name: str, step: StepInput, error: Exception) -> str:
    transient = not isinstance(error, PermanentError)
    reason = error.reason if isinstance(error, SyncError) else f"Unexpected error: {error!r}"
    system = error.system if isinstance(error, SyncError) else SYSTEM_OF[step_name]
    retry_after = error.retry_after if isinstance(error, TransientError) else None
    log.warning(
        "step %s failed for deal %s: %s", step_name, step.opportunity_id, reason,
        extra={"opportunity_id": step.opportunity_id, "step": step_name, "error": reason},
        exc_info=not isinstance(error, SyncError),
    )
    with transaction(rt.sessions) as session:
        item = queue.still_leased(session, step.item_id, rt.worker_id)
        if item is None:
            return "lease_lost"
        item.attempts += 1
        item.last_error = reason[:4000]
        item.lease_owner = None
        item.lease_expires_at = None
        if transient and item.attempts < rt.config.max_attempts:
            item.status = queue.PENDING
            item.next_attempt_at = rt.now() + backoff(rt, item.attempts, retry_after)
            return "retry"
        item.status = queue.EXCEPTION
        deal = session.get(Deal, step.opportunity_id)
        name = deal.name if deal else step.opportunity_id
        what = (f"Credit approval {step.subject}" if step_name == credit.STEP
                else f"Deal {name}")
        exceptions.raise_exception(
            session,
            opportunity_id=step.opportunity_id or None,
            kind=step_name,
            system=system,
            reason=f"{what} could not be {LABELS[step_name]}: {reason}",
            detail=getattr(error, "detail", None) or repr(error)[:4000],
            attempts=item.attempts,
            work_item_id=item.id,
        )
        if deal is not None and step_name in ("bill", "post"):
            deal.status = "exception"
            deal.message = reason
            queue.arm(session, opportunity_id=step.opportunity_id, version=step.version,
                      step="writeback")
        audit.append(session, action="step.exception", opportunity_id=step.opportunity_id,
                     subject=f"work_item:{item.id}", step=step_name, reason=reason)
        return "exception"
