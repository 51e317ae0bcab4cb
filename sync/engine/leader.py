"""Cluster-wide once: a scheduled job runs on one replica per interval, never on each of them.

Every replica ticks its own scheduler; before running a job it claims the job's row in
`job_leases`. The claim succeeds only when nobody holds an unexpired lease and the interval slot
(`floor(now / interval)`) has not run yet. The row is read under `BEGIN IMMEDIATE` (SQLite) or
`SELECT … FOR UPDATE` (PostgreSQL), so two replicas can't both win. A replica that dies while
running leaves its lease to expire; the next slot is then free for any other replica.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ops_tables import JobLease
from storage.timeutil import aware, utcnow
from sync.dates import Seconds

log = logging.getLogger("closebot.leader")
T = TypeVar("T")


def slot_of(now: datetime, interval_s: Seconds) -> int:
    return int(now.timestamp() // max(interval_s, 0.001))


def claim(
    sessions: sessionmaker[Session],
    name: str,
    *,
    owner: str,
    interval_s: Seconds,
    ttl: timedelta,
    now: datetime | None = None,
) -> bool:
    """Take this interval's run of `name` for `owner`; False if it ran or runs elsewhere."""
    now = now or utcnow()
    slot = slot_of(now, interval_s)
    try:
        with transaction(sessions) as session:
            row = session.get(JobLease, name, with_for_update=_pg(session))
            if row is None:
                row = JobLease(name=name, last_slot=-1)
                session.add(row)
            held = row.owner and row.owner != owner and (aware(row.expires_at) or now) > now
            if held or row.last_slot >= slot:
                return False
            row.owner, row.expires_at = owner, now + ttl
            row.last_slot, row.last_started_at = slot, now
            return True
    except IntegrityError:
        return False  # another replica created the row in the same instant and won


def release(sessions: sessionmaker[Session], name: str, *, owner: str) -> None:
    with transaction(sessions) as session:
        row = session.get(JobLease, name, with_for_update=_pg(session))
        if row is not None and row.owner == owner:
            row.owner, row.expires_at, row.last_finished_at = None, None, utcnow()


def run_once_cluster_wide(
    sessions: sessionmaker[Session],
    name: str,
    func: Callable[[], T],
    *,
    owner: str,
    interval_s: Seconds,
    ttl: timedelta,
) -> T | None:
    """Run `func` if this replica wins the current slot of `name`; None when it didn't run."""
    if not claim(sessions, name, owner=owner, interval_s=interval_s, ttl=ttl):
        return None
    try:
        return func()
    finally:
        try:
            release(sessions, name, owner=owner)
        except Exception:
            # The lease expires on its own; a failed release only delays the next slot.
            log.exception("could not release the lease of job %s", name)


def _pg(session: Session) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"
