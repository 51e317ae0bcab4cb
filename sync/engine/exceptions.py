"""The exception queue: one open record per deal and kind, updated while the failure recurs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from storage import audit
from storage.tables import SyncException
from storage.timeutil import utcnow

OPEN, RESOLVED, DISMISSED = "open", "resolved", "dismissed"
# Raised by the nightly reconciliation: it reports that the books disagree, and never holds a
# deal's steps (a deal with only such an exception open flows, and is marked synced, as usual).
RECONCILIATION = "reconciliation"


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
    """Open an exception, or refresh the open one of the same deal (or of no deal) and kind."""
    exc = session.scalar(
        select(SyncException).where(
            _of(opportunity_id),
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


def _of(opportunity_id: str | None) -> ColumnElement[bool]:
    # `= NULL` matches nothing in SQL: an exception about no deal is found with IS NULL.
    if opportunity_id is None:
        return SyncException.opportunity_id.is_(None)
    return SyncException.opportunity_id == opportunity_id


def resolve(
    session: Session,
    *,
    opportunity_id: str | None,
    kinds: Iterable[str],
    by: str = "closebot",
    resolution: str = "resolved by a later successful sync",
    status: str = RESOLVED,
) -> list[SyncException]:
    found = list(
        session.scalars(
            select(SyncException).where(
                _of(opportunity_id),
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
