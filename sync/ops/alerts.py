"""Failed-sync alerts: one Slack message per exception, edited in place as it recurs or resolves.

When one system is down, many items fail (or wait to retry) with the same last error; from
`group_min` of them on, they share one grouped alert and get no message each. A deal that fails
validation also gets a DM to its Salesforce owner naming the fields to fix.

Retry and Dismiss are decisions (a dismissed exception disappears from finance's view), so
`authorize` limits them to operators and approvers, and each is audited like an approval.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage import audit, queue
from storage.db import transaction
from storage.slack_tables import OutboxMessage
from storage.tables import Deal, SyncException, WorkItem
from sync.contracts.fields import labels
from sync.engine import exceptions
from sync.ops import outbox
from sync.ops.surface import BadInput, Deps, NotAllowed, Stale

SYSTEM_NAMES = {"stripe": "Stripe", "salesforce": "Salesforce", "erp": "the ERP",
                "ledger": "the ledger", "netsuite": "NetSuite", "engine": "closebot"}
HINTS = {
    "validation": "Fix the fields below in Salesforce; the deal flows on by itself.",
    "credit": "Retry applies the approved credit again (nothing is created twice).",
    "reconciliation": "Correct the records named here; the next nightly reconciliation closes "
                      "this alert once the books agree, or Dismiss with why the difference "
                      "stands.",
}
DEFAULT_HINT = "Retry runs the step again (nothing is created twice), or Dismiss with a reason."
MAX_NAMED = 10  # people a refusal names; the rest are in the settings


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    state: str  # open | resolved | dismissed
    reason: str
    system: str
    attempts: int
    last_error: str | None
    deal: str | None
    customer: str | None
    opportunity_id: str | None
    fields: list[str]  # labels of the CRM fields to fix
    hint: str
    link: str | None
    resolution: str | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class GroupAlert:
    key: str
    system: str
    cause: str
    count: int
    next_retry: datetime | None
    deals: list[str] = field(default_factory=list)
    state: str = "open"  # open | recovered


def alert_for(session: Session, exc: SyncException, deps: Deps) -> Alert:
    deal = session.get(Deal, exc.opportunity_id) if exc.opportunity_id else None
    item = session.get(WorkItem, exc.work_item_id) if exc.work_item_id else None
    return Alert(
        id=exc.id, kind=exc.kind, state=exc.status, reason=exc.reason,
        system=SYSTEM_NAMES.get(exc.system or "", exc.system or "closebot"),
        attempts=exc.attempts, last_error=item.last_error if item else exc.detail,
        deal=deal.name if deal else None, customer=deal.account_name if deal else None,
        opportunity_id=exc.opportunity_id, fields=labels(exc.fields or []),
        hint=HINTS.get(exc.kind, DEFAULT_HINT), link=deps.links.opportunity(exc.opportunity_id),
        resolution=exc.resolution, resolved_by=exc.resolved_by,
    )


def _cause_key(system: str, cause: str) -> str:
    return "alert:group:" + hashlib.sha256(f"{system}|{cause}".encode()).hexdigest()[:20]


def _groups(session: Session, deps: Deps) -> dict[str, GroupAlert]:
    """Items failing for one cause: waiting to retry, or open exceptions of a step."""
    waiting = session.execute(
        select(WorkItem.step, WorkItem.last_error, WorkItem.next_attempt_at,
               WorkItem.opportunity_id)
        .where(WorkItem.last_error.is_not(None),
               WorkItem.status.in_((queue.PENDING, queue.EXCEPTION)))
    ).all()
    buckets: dict[tuple[str, str], list[tuple[datetime | None, str]]] = defaultdict(list)
    for step, error, due, opp in waiting:
        system = {"bill": "stripe", "post": deps.erp, "writeback": "salesforce"}.get(step, step)
        buckets[(system, error)].append((due, opp))
    groups = {}
    for (system, cause), items in buckets.items():
        if len(items) >= deps.group_min:
            key = _cause_key(system, cause)
            future = [d for d, _ in items if d is not None]
            groups[key] = GroupAlert(key=key, system=SYSTEM_NAMES.get(system, system),
                                     cause=cause, count=len(items),
                                     next_retry=min(future) if future else None,
                                     deals=sorted({o for _, o in items})[:10])
    return groups


def sweep(deps: Deps) -> Counter[str]:
    """Bring every alert message in line with the exception queue (idempotent)."""
    counts: Counter[str] = Counter()
    with transaction(deps.sessions) as session:
        groups = _groups(session, deps)
        grouped_all = _grouped_opportunities(session, deps, groups)
        for key, group in groups.items():
            text, blocks = deps.render.group_alert(group)
            outbox.enqueue(session, key=key, channel=deps.channels.alerts, text=text,
                           blocks=blocks, ref="group", state="open")
            counts["group"] += 1
        for row in session.scalars(select(OutboxMessage).where(
                OutboxMessage.key.like("alert:group:%"), OutboxMessage.state == "open")):
            if row.key not in groups:
                text, blocks = deps.render.group_alert(GroupAlert(
                    key=row.key, system="", cause=row.text, count=0, next_retry=None,
                    state="recovered"))
                outbox.enqueue(session, key=row.key, channel=deps.channels.alerts, text=text,
                               blocks=blocks, ref="group", state="recovered")
        for exc in session.scalars(select(SyncException).where(SyncException.status == "open")):
            if exc.opportunity_id in grouped_all and exc.kind != "validation":
                continue
            counts["alert"] += _post(session, deps, exc)
        counts["closed"] += _close_resolved(session, deps)
    return counts


def _grouped_opportunities(session: Session, deps: Deps, groups: dict[str, GroupAlert]) -> set:
    if not groups:
        return set()
    causes = {g.cause for g in groups.values()}
    return set(session.scalars(select(WorkItem.opportunity_id).where(
        WorkItem.last_error.in_(causes))))


def _post(session: Session, deps: Deps, exc: SyncException) -> int:
    alert = alert_for(session, exc, deps)
    text, blocks = deps.render.alert(alert)
    outbox.enqueue(session, key=f"alert:exception:{exc.id}", channel=deps.channels.alerts,
                   text=text, blocks=blocks, ref=f"exception:{exc.id}", state=exc.status)
    if exc.kind == "validation" and exc.opportunity_id:
        deal = session.get(Deal, exc.opportunity_id)
        if deal is not None and deal.owner_email:
            text, blocks = deps.render.owner_dm(alert)
            outbox.enqueue(session, key=f"dm:exception:{exc.id}", email=deal.owner_email,
                           text=text, blocks=blocks, ref=f"dm:{exc.id}", state=exc.status)
    return 1


def _close_resolved(session: Session, deps: Deps) -> int:
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.state == "open",
        OutboxMessage.key.like("alert:exception:%") | OutboxMessage.key.like("dm:exception:%")))
    ids = {int(r.key.rsplit(":", 1)[1]) for r in rows}
    closed = session.scalars(select(SyncException).where(
        SyncException.id.in_(ids), SyncException.status != "open")).all() if ids else []
    for exc in closed:
        _post(session, deps, exc)
    return len(closed)


def authorize(deps: Deps, user: str, *, verb: str) -> None:
    """Only operators (`SLACK_OPERATORS`) and approvers may retry or dismiss a failed sync;
    anyone else learns whom to ask. Every front (Slack, a CLI) goes through here."""
    policy = deps.policy
    if policy.may_operate(user, deps.directory):
        return
    people = tuple(sorted(policy.operators | policy.users))[:MAX_NAMED]
    groups = (policy.group,) if policy.group else ()
    if not people and not groups:
        raise NotAllowed(f"Nobody may {verb} failed syncs yet: set SLACK_OPERATORS or "
                         "SLACK_APPROVERS. Nothing was changed.")
    raise NotAllowed(f"Only closebot operators and finance approvers may {verb} a failed "
                     "sync. Nothing was changed.", people=people, groups=groups)


def retry(deps: Deps, exception_id: int, *, user: str) -> SyncException:
    """Arm the failed step again; the engine's idempotency makes a double click harmless."""
    authorize(deps, user, verb="retry")
    with transaction(deps.sessions) as session:
        exc = _open(session, exception_id)
        if exc.kind == "validation":
            raise BadInput("This deal needs its fields fixed in Salesforce; closebot picks it "
                           "up again by itself once they are.")
        if exc.kind == exceptions.RECONCILIATION:
            raise BadInput("There is no step to retry: the books are checked again at the next "
                           "reconciliation, which closes this once they agree.")
        item = session.get(WorkItem, exc.work_item_id) if exc.work_item_id else None
        if item is not None:
            queue.arm(session, opportunity_id=item.opportunity_id, version=item.contract_version,
                      step=item.step)
            deal = session.get(Deal, item.opportunity_id)
            if deal is not None and deal.status == "exception":
                deal.status = "pending"
        _audit(session, exc, action="exception.retry", user=user, reason="manual retry",
               step=item.step if item is not None else None)
        return exc


def dismiss(deps: Deps, exception_id: int, *, user: str, reason: str) -> None:
    authorize(deps, user, verb="dismiss")
    why = reason.strip()
    if not why:
        raise BadInput("Please say why this can be dismissed.", field="reason")
    with transaction(deps.sessions) as session:
        exc = _open(session, exception_id)
        # Conditional, like an approval: of two simultaneous dismissals one decides.
        moved = session.execute(
            update(SyncException)
            .where(SyncException.id == exc.id, SyncException.status == exceptions.OPEN)
            .values(status=exceptions.DISMISSED, resolved_at=deps.now(), resolved_by=user,
                    resolution=why)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise Stale("Someone else resolved this exception a moment ago.")
        session.refresh(exc)
        _audit(session, exc, action="exception.dismissed", user=user, reason=why,
               resolution=why)
        _post(session, deps, exc)


def _audit(session: Session, exc: SyncException, *, action: str, user: str, reason: str,
           **more: object) -> None:
    """Who decided what about which problem, and why (the entry's `at` says when)."""
    audit.append(session, action=action, actor=user, opportunity_id=exc.opportunity_id,
                 subject=f"exception:{exc.id}", kind=exc.kind, system=exc.system,
                 problem=exc.reason, attempts=exc.attempts, reason=reason, **more)


def _open(session: Session, exception_id: int) -> SyncException:
    exc = session.get(SyncException, exception_id)
    if exc is None or exc.status != "open":
        raise Stale("This exception is already resolved or dismissed.")
    return exc


def open_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(SyncException.status == "open")) or 0
