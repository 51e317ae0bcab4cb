"""Decisions on non-standard billing events, enforced by the database.

A card carries an `ApprovalRef` (id + version). A decision inserts one `ApprovalDecision` row
(unique per approver) and moves the approval with a conditional UPDATE
`WHERE status = 'pending' AND version = :v`; of two simultaneous clicks exactly one matches,
and a stale card (older version) matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import audit, queue
from storage.db import transaction
from storage.slack_tables import ApprovalDecision
from storage.tables import Approval, ContractVersion, Deal
from sync.engine import credit
from sync.ops import outbox
from sync.ops.approval_cards import card_for, requester_id
from sync.ops.surface import BadInput, Deps, NotAllowed, Stale

NO_APPROVERS = ("No approvers are configured, so nobody can decide this request yet: ask your "
                "closebot admin to set SLACK_APPROVERS (Slack user IDs) or SLACK_APPROVER_GROUP "
                "(a user group). Nothing was changed.")


class ApprovalRef(BaseModel):
    """The typed reference a card's buttons carry: which approval, as of which version."""

    id: int
    v: int

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, value: str) -> ApprovalRef:
        try:
            return cls.model_validate_json(value)
        except ValidationError as exc:
            raise BadInput("That button is not from a closebot approval card.") from exc


@dataclass(frozen=True)
class Decided:
    approval_id: int
    kind: str
    status: str  # approved | rejected | pending (a first of two approvals)
    approvals: int
    needed: int


def check(
    session: Session, deps: Deps, ref: ApprovalRef, user: str, *, approving: bool
) -> Approval:
    """The approval, if `user` may decide it from this card now; raises a `UserError` if not."""
    ap = session.get(Approval, ref.id)
    if ap is None:
        raise Stale("This approval request no longer exists.")
    if ap.status != "pending" or ap.version != ref.v:
        raise Stale(f"This request was already handled (now {ap.status}); see the updated card.")
    entity = deal_entity(session, ap)
    if not deps.policy.allows(ap.kind, user, deps.directory, entity=entity):
        if entity is not None and deps.policy.entity_users.get(entity):
            raise NotAllowed(f"Only {entity}'s approvers can decide this request for a deal "
                             f"{entity} sells. Nothing was changed.")
        if deps.policy.nobody_for(ap.kind):
            raise NotAllowed(NO_APPROVERS)
        raise NotAllowed("Only configured finance approvers can decide this request. "
                         "Nothing was changed.")
    if approving and requester_id(ap, deps) == user:
        raise NotAllowed("You requested this, so someone else has to approve it. "
                         "Nothing was changed.")
    return ap


def deal_entity(session: Session, ap: Approval) -> str | None:
    """The legal entity selling the approval's deal: that of its contract version, else of the
    deal's latest version (a credit asked for after billing)."""
    if not ap.opportunity_id:
        return None
    query = select(ContractVersion.body).where(
        ContractVersion.opportunity_id == ap.opportunity_id)
    if ap.contract_version:
        query = query.where(ContractVersion.version == ap.contract_version)
    body = session.scalar(query.order_by(ContractVersion.version.desc()).limit(1))
    return (body or {}).get("entity")


def needed(ap: Approval, deps: Deps) -> int:
    big = ap.kind == "credit" and (ap.amount_minor or 0) > deps.policy.two_approvers_minor
    return 2 if big or ap.kind == "close" else 1


def decide(deps: Deps, ref: ApprovalRef, *, user: str, approve: bool,
           reason: str | None = None) -> Decided:
    if not approve and not (reason or "").strip():
        raise BadInput("Please give a reason for rejecting.", field="reason")
    verdict = "approved" if approve else "rejected"
    # Salesforce shows the rejection as text, where a Slack user ID means nothing.
    by = user if approve else deps.directory.name_for(user) or user
    with transaction(deps.sessions) as session:
        ap = check(session, deps, ref, user, approving=approve)
        try:
            with session.begin_nested():
                session.add(ApprovalDecision(approval_id=ap.id, approver=user, decision=verdict,
                                             reason=reason, decided_at=deps.now()))
        except IntegrityError as exc:
            raise Stale("You have already decided on this request.") from exc
        votes = session.scalar(select(func.count()).where(
            ApprovalDecision.approval_id == ap.id, ApprovalDecision.decision == "approved")) or 0
        need = needed(ap, deps)
        final = not approve or votes >= need
        status = verdict if final else "pending"
        entry = {"user": user, "decision": verdict, "at": deps.now().isoformat(),
                 "reason": reason}
        moved = session.execute(
            update(Approval)
            .where(Approval.id == ap.id, Approval.status == "pending", Approval.version == ref.v)
            .values(status=status, version=ref.v + 1, decisions=[*ap.decisions, entry],
                    decided_at=deps.now() if final else None,
                    reason=reason if final else ap.reason)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise Stale("Someone else decided this request a moment ago; see the updated card.")
        session.refresh(ap)
        if final:
            _apply(session, ap, by=by)
        _audit(session, ap, user=user, verdict=verdict, reason=reason, final=final)
        post_card(session, deps, ap)
        return Decided(ap.id, ap.kind, status, votes, need)


def _apply(session: Session, ap: Approval, *, by: str) -> None:
    """Resume or stop the pipeline with the decision: an approved credit arms its credit step,
    a deal approval its bill step (or, rejected, stops the deal)."""
    if ap.kind == "credit":
        if ap.status == "approved":
            credit.arm(session, ap)
        return
    if not ap.opportunity_id:  # a month-end close runs after this commit (sync.ops.month_end)
        return
    deal = session.get(Deal, ap.opportunity_id)
    opp, version = ap.opportunity_id, ap.contract_version
    if ap.status == "approved":
        queue.arm(session, opportunity_id=opp, version=version, step="bill")
        if deal is not None:
            deal.status, deal.message = "pending", None
    elif deal is not None:
        deal.status = "rejected"
        deal.message = f"Rejected in Slack by {by}: {ap.reason}"[:4000]
    queue.arm(session, opportunity_id=opp, version=version, step="writeback")


def _audit(session: Session, ap: Approval, *, user: str, verdict: str, reason: str | None,
           final: bool) -> None:
    downstream = []
    if final and ap.status == "approved":
        downstream = [f"work_item:{ap.opportunity_id}:credit:{ap.id}" if ap.kind == "credit"
                      else f"close:{ap.subject}" if ap.kind == "close"
                      else f"work_item:{ap.opportunity_id}:v{ap.contract_version}:bill"]
    audit.append(session, action=f"approval.{verdict if final else 'first_approval'}",
                 actor=user, opportunity_id=ap.opportunity_id, subject=f"approval:{ap.id}",
                 kind=ap.kind, reason=reason, reasons=ap.reasons,
                 original=[r.get("original") for r in ap.reasons],
                 modified=[r.get("proposed") for r in ap.reasons],
                 amount_minor=ap.amount_minor, currency=ap.currency, downstream=downstream)


def post_card(session: Session, deps: Deps, ap: Approval) -> None:
    text, blocks = deps.render.approval_card(card_for(session, ap, deps, needed(ap, deps)))
    outbox.enqueue(session, key=f"approval:{ap.id}", channel=deps.channels.approvals, text=text,
                   blocks=blocks, ref=f"approval:{ap.id}", state=ap.status)


def post_new_cards(deps: Deps) -> int:
    """Cards for approvals the pipeline opened since the last sweep."""
    from storage.slack_tables import OutboxMessage

    with transaction(deps.sessions) as session:
        waiting = session.scalars(select(Approval).where(Approval.status == "pending")).all()
        refs = [f"approval:{ap.id}" for ap in waiting]
        carded = set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(refs))))
        fresh = [ap for ap in waiting if f"approval:{ap.id}" not in carded]
        for ap in fresh:
            post_card(session, deps, ap)
        return len(fresh)


def remind(deps: Deps) -> int:
    """Nudge approvals left pending longer than `reminder_hours` (once per period)."""
    from datetime import timedelta

    cutoff = deps.now() - timedelta(hours=deps.reminder_hours)
    with transaction(deps.sessions) as session:
        stale = session.scalars(select(Approval).where(
            Approval.status == "pending", Approval.created_at <= cutoff,
            Approval.card_ts.is_not(None),
            (Approval.reminded_at.is_(None)) | (Approval.reminded_at <= cutoff))).all()
        for ap in stale:
            ap.reminded_at = deps.now()
            text, blocks = deps.render.reminder(card_for(session, ap, deps, needed(ap, deps)))
            outbox.enqueue(session, key=f"reminder:{ap.id}:{ap.reminded_at:%Y%m%d%H}",
                           channel=ap.card_channel, thread_ts=ap.card_ts, text=text,
                           blocks=blocks, ref=f"approval:{ap.id}")
        return len(stale)


__all__ = ["ApprovalRef", "Decided", "NotAllowed", "check", "decide", "post_card", "remind"]


def may_decide(deps: Deps, ref: ApprovalRef, *, user: str) -> None:
    """Raise the reason `user` can't decide from this card (before opening the reject modal)."""
    with transaction(deps.sessions) as session:
        check(session, deps, ref, user, approving=False)
