"""The exception queue: one open record per deal and kind, updated while the failure recurs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit
from storage.tables import SyncException
from storage.timeutil import utcnow

OPEN, RESOLVED, DISMISSED = "open", "resolved", "dismissed"


def raise_exception(
    session: Session,
    *,
    opportunity_id: str | None,
    kind: str,
    reason: str,
    system: str | None = None,
    detail: str | None = None,
    fields: list[str] | None = None,
    attempts: int = 0,
    work_item_id: int | None = None,
) -> SyncException:
    """Open an exception, or refresh the open one of the same deal and kind."""
    exc = session.scalar(
        select(SyncException).where(
            SyncException.opportunity_id == opportunity_id,
            SyncException.kind == kind,
            SyncException.status == OPEN,
        )
    )
    if exc is None:
        exc = SyncException(opportunity_id=opportunity_id, kind=kind, status=OPEN)
        session.add(exc)
    exc.reason = reason
    exc.system = system
    exc.detail = detail
    exc.fields = list(fields or [])
    exc.attempts = attempts
    exc.work_item_id = work_item_id
    exc.updated_at = utcnow()
    session.flush()
    audit.append(
        session,
        action="exception.opened",
        opportunity_id=opportunity_id,
        subject=f"exception:{exc.id}",
        kind=kind,
        reason=reason,
    )
    return exc


def resolve(
    session: Session,
    *,
    opportunity_id: str,
    kinds: Iterable[str],
    by: str = "closebot",
    resolution: str = "resolved by a later successful sync",
    status: str = RESOLVED,
) -> list[SyncException]:
    found = list(
        session.scalars(
            select(SyncException).where(
                SyncException.opportunity_id == opportunity_id,
                SyncException.kind.in_(list(kinds)),
                SyncException.status == OPEN,
            )
        )
    )
    for exc in found:
        exc.status = status
        exc.resolved_at = utcnow()
        exc.resolved_by = by
        exc.resolution = resolution
        audit.append(
            session,
            action=f"exception.{status}",
            actor=by,
            opportunity_id=opportunity_id,
            subject=f"exception:{exc.id}",
            resolution=resolution,
        )
    return found
