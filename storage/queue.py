"""The durable work queue: one row per (opportunity, contract version, step).

A claim takes a lease; a worker that dies leaves its lease to expire and another worker takes the
item over. On PostgreSQL claims use `FOR UPDATE SKIP LOCKED` so replicas never take the same item;
on SQLite every write transaction starts with `BEGIN IMMEDIATE`, which serializes claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Executable, and_, case, or_, select, update
from sqlalchemy.orm import Session

from storage.statements import prebuilt, upsert_insert
from storage.tables import WorkItem
from storage.timeutil import utcnow

PENDING, RUNNING, DONE, EXCEPTION, HELD = "pending", "running", "done", "exception", "held"
SUPERSEDED = "superseded"  # an earlier contract version's step that a newer version replaced


def arm(
    session: Session,
    *,
    opportunity_id: str,
    version: int,
    step: str,
    at: datetime | None = None,
    status: str = PENDING,
) -> int:
    """Make sure the step will run: create it, or set a finished one pending again.

    Re-arming keeps `first_attempt_at`: a step that ran before may have created something whose
    answer was lost, and its idempotency key may have expired since, so the next attempt must
    look before it creates (see `claim`).
    """
    now = at or utcnow()
    # One round trip for the common case (a new step); an existing step is re-armed below.
    created = session.execute(
        _insert(session),
        {"opportunity_id": opportunity_id, "contract_version": version, "step": step,
         "status": status, "attempts": 0, "rerun": False, "next_attempt_at": now,
         "created_at": now, "updated_at": now},
    ).scalar()
    if created is not None:
        return created
    item = session.scalar(
        select(WorkItem).where(
            WorkItem.opportunity_id == opportunity_id,
            WorkItem.contract_version == version,
            WorkItem.step == step,
        )
    )
    assert item is not None
    if item.status == RUNNING:
        # The running worker finishes first; it then sees `rerun` and queues the step again.
        item.rerun = True
    else:
        item.status = status
        item.attempts = 0
        item.next_attempt_at = now
    return item.id


def claim(
    session: Session,
    *,
    worker: str,
    lease: timedelta,
    steps: Sequence[str],
    limit: int,
    now: datetime | None = None,
    only: Sequence[int] | None = None,
) -> list[WorkItem]:
    """Lease up to `limit` due items of the given steps to `worker`, oldest due first.

    A step named `kind:subject` (one credit, say) is claimed with its kind. An item claimed for
    the first time gets `first_attempt_at = now`; one that keeps an earlier `first_attempt_at`
    ran before (a retry, a manual re-arm, a takeover after a crash).
    """
    now = now or utcnow()
    due = or_(
        and_(WorkItem.status == PENDING, WorkItem.next_attempt_at <= now),
        and_(WorkItem.status == RUNNING, WorkItem.lease_expires_at < now),
    )
    query = (
        select(WorkItem)
        .where(or_(WorkItem.step.in_(steps), *[WorkItem.step.like(f"{s}:%") for s in steps]),
               due)
        .order_by(WorkItem.next_attempt_at, WorkItem.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(WorkItem.id.in_(only))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query))
    for item in items:
        item.status = RUNNING
        item.lease_owner = worker
        item.lease_expires_at = now + lease
        if item.first_attempt_at is None:
            item.first_attempt_at = now
    session.flush()
    return items


@prebuilt
def _insert(dialect: str) -> Executable:
    return (
        upsert_insert(dialect)(WorkItem)
        .on_conflict_do_nothing(index_elements=["opportunity_id", "contract_version", "step"])
        .returning(WorkItem.id)
    )


def finish_many(session: Session, item_ids: Sequence[int], worker: str) -> set[int]:
    """Mark leased items done (or pending again if re-armed while running), in one statement.

    Returns the items whose lease was still held; the others were taken over by another worker,
    whose result stands (every effect is idempotent, so nothing is lost either way).
    """
    if not item_ids:
        return set()
    done = session.execute(
        update(WorkItem)
        .where(WorkItem.id.in_(item_ids), WorkItem.status == RUNNING,
               WorkItem.lease_owner == worker)
        .values(status=case((WorkItem.rerun, PENDING), else_=DONE), rerun=False,
                lease_owner=None, lease_expires_at=None, last_error=None, updated_at=utcnow())
        .returning(WorkItem.id)
    )
    return {row[0] for row in done}


def arm_many(session: Session, steps: Sequence[tuple[str, int, str, datetime]]) -> None:
    """`arm` for a batch of (opportunity, version, step, due at): new steps in one statement,
    already existing ones re-armed one by one (the rare case of a retried step)."""
    if not steps:
        return
    rows = [
        {"opportunity_id": opp, "contract_version": version, "step": step, "status": PENDING,
         "attempts": 0, "rerun": False, "next_attempt_at": at, "created_at": at,
         "updated_at": at}
        for opp, version, step, at in steps
    ]
    created = {
        tuple(row)
        for row in session.execute(
            _insert_keys(session), rows
        )
    }
    for opp, version, step, at in steps:
        if (opp, version, step) not in created:
            arm(session, opportunity_id=opp, version=version, step=step, at=at)


@prebuilt
def _insert_keys(dialect: str) -> Executable:
    return (
        upsert_insert(dialect)(WorkItem)
        .on_conflict_do_nothing(index_elements=["opportunity_id", "contract_version", "step"])
        .returning(WorkItem.opportunity_id, WorkItem.contract_version, WorkItem.step,
                   sort_by_parameter_order=True)
    )


def still_leased(session: Session, item_id: int, worker: str) -> WorkItem | None:
    """Re-read an item under this worker's lease; None if another worker has taken it over."""
    item = session.get(WorkItem, item_id, with_for_update=_for_update(session))
    if item is None or item.status != RUNNING or item.lease_owner != worker:
        return None
    return item


def release_all(session: Session, worker: str) -> int:
    """Give back every item this worker holds (graceful shutdown)."""
    result = session.execute(
        update(WorkItem)
        .where(WorkItem.lease_owner == worker, WorkItem.status == RUNNING)
        .values(status=PENDING, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount or 0


def _for_update(session: Session) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"
