"""The daily digest and the App Home numbers: one snapshot, two renderings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal, SyncException
from sync.money import format_money
from sync.ops import outbox
from sync.ops.approval_cards import ApprovalCard, card_for
from sync.ops.approvals import needed, requester_id
from sync.ops.surface import Deps
from sync.ops.tieout import Tieout, latest


@dataclass(frozen=True)
class Digest:
    day: date
    synced: int
    failed: int
    awaiting_approval: int
    open_exceptions: int
    overdue: int
    overdue_amounts: list[str] = field(default_factory=list)
    waiting_for_you: list[ApprovalCard] = field(default_factory=list)
    tieout: Tieout | None = None  # the last nightly reconciliation's three-way figures


def snapshot(session: Session, *, now: datetime, today: date) -> Digest:
    since = now - timedelta(hours=24)

    def count(table: type, *conds: object) -> int:
        return session.scalar(select(func.count()).select_from(table).where(*conds)) or 0

    overdue_rows = session.execute(
        select(BillingInvoice.currency, func.count(),
               func.sum(BillingInvoice.amount_remaining_minor))
        .where(BillingInvoice.status == "open", BillingInvoice.due_on < today)
        .group_by(BillingInvoice.currency)).all()
    totals: dict[str, int] = defaultdict(int)
    for currency, _n, amount in overdue_rows:
        totals[currency] += int(amount or 0)
    return Digest(
        day=today,
        synced=count(Deal, Deal.status == "synced", Deal.updated_at >= since),
        failed=count(SyncException, SyncException.created_at >= since),
        awaiting_approval=count(Approval, Approval.status == "pending"),
        open_exceptions=count(SyncException, SyncException.status == "open"),
        overdue=sum(int(n) for _c, n, _a in overdue_rows),
        overdue_amounts=[format_money(v, c) for c, v in sorted(totals.items())],
        tieout=latest(session),
    )


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def post_digest(deps: Deps, *, timezone: str = "UTC") -> str:
    """Queue today's digest; posting it twice on one day edits the same message."""
    now = deps.now()
    today = local_day(now, timezone)
    with transaction(deps.sessions) as session:
        digest = snapshot(session, now=now, today=today)
        text, blocks = deps.render.digest(digest)
        outbox.enqueue(session, key=f"digest:{today.isoformat()}", channel=deps.channels.digest,
                       text=text, blocks=blocks, ref="digest", state="open")
    return f"digest:{today.isoformat()}"


def home(deps: Deps, user: str, *, timezone: str = "UTC") -> Digest:
    """The digest numbers plus the approvals this viewer may decide."""
    now = deps.now()
    with transaction(deps.sessions) as session:
        digest = snapshot(session, now=now, today=local_day(now, timezone))
        waiting = session.scalars(select(Approval).where(Approval.status == "pending")
                                  .order_by(Approval.created_at).limit(50)).all()
        mine = [card_for(session, ap, deps, needed(ap, deps)) for ap in waiting
                if deps.policy.allows(ap.kind, user, deps.directory)
                and requester_id(ap, deps) != user][:15]
    return Digest(**{**digest.__dict__, "waiting_for_you": mine})
