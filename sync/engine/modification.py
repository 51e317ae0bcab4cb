"""An amendment classified under ASC 606-10-25-12/13 (`sync.revenue.modifications`) and recorded
in the audit log, once, when its bill step fixes the effective date. `closebot books deal` shows
the record beside the deal's entries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit, queue
from storage.tables import Approval, AuditEntry, Deal
from sync.contracts.amendments import amend, remaining_value
from sync.contracts.normalize import InvalidDeal
from sync.engine import ssp
from sync.engine.work import load_contract
from sync.model import Contract
from sync.revenue.allocation import Ssp
from sync.revenue.modifications import ACTION, Kind, Modification, classify


def classify_amendment(previous: Contract, current: Contract, effective: date, *,
                       recognized: Mapping[str, int] | None = None,
                       ssps: Mapping[str, Ssp] | None = None, on_delivery: bool = False
                       ) -> Modification | None:
    """What the change adds, in the amendment's own arithmetic (what Stripe bills from the
    effective date, less a decrease's credit, plus a change to a one-time price), classified."""
    change = amend(previous, current, effective)
    before = {o.line_id: o for o in previous.obligations}
    by_product = {o.product: o for o in previous.obligations}
    one_time = 0
    for new in current.one_time:
        old = before.get(new.line_id) or by_product.get(new.product)
        if old is not None:
            one_time += new.amount_minor - old.amount_minor
    fresh = sum(o.amount_minor for o in change.lines) - change.credit + one_time
    left = {o.line_id: remaining_value(current, o, effective) for o in current.recurring}
    return classify(previous, current, effective, fresh=fresh, left=left,
                    recognized=recognized, ssps=ssps, on_delivery=on_delivery)


def record(session: Session, previous: Contract, current: Contract, effective: date, *,
           on_delivery: bool = False) -> Modification | None:
    """Classify the amendment and keep the classification and its reason in the audit log,
    once: a replayed bill step (a Retry, a takeover) finds it there and records nothing."""
    subject = f"contract:{current.opportunity_id}:v{current.version}"
    if session.scalar(select(AuditEntry.id).where(
            AuditEntry.opportunity_id == current.opportunity_id,
            AuditEntry.action == ACTION, AuditEntry.subject == subject).limit(1)) is not None:
        return None
    found = classify_amendment(previous, current, effective, on_delivery=on_delivery,
                               ssps=ssp_table(session, current))
    if found is None:
        return None
    audit.append(session, action=ACTION, opportunity_id=current.opportunity_id,
                 subject=subject,
                 amends=previous.version, **found.as_record())
    return found


def to_replan(session: Session, opportunity_id: str, version: int
              ) -> dict[str, object] | None:
    """The recorded classification of the version's amendment, when it asks the schedules to
    move: not a separate contract (nothing planned moves), and not a decrease (its change order
    and the credit memo on the current period's invoice re-plan it: re-planning here as well
    would take the credit twice). A decrease that drops an obligation (a recurring line removed
    mid-period, its unused time credited) is re-planned once its credit memo is booked: the
    memo takes the credit out of deferred revenue, then the targets, which already count the
    credit, stop the dropped line and give the rest to those left (the credit step arms this
    post step again when it books the memo)."""
    data = session.scalar(select(AuditEntry.data).where(
        AuditEntry.opportunity_id == opportunity_id, AuditEntry.action == ACTION,
        AuditEntry.subject == f"contract:{opportunity_id}:v{version}").limit(1))
    if not data or data.get("kind") == Kind.SEPARATE_CONTRACT.value:
        return None
    amends = data.get("amends")
    if not isinstance(amends, int):
        return None
    effective = date.fromisoformat(str(data["effective_on"]))
    previous = load_contract(session, opportunity_id, amends)
    current = load_contract(session, opportunity_id, version)
    if not amend(previous, current, effective).credit:
        return data
    kept = {o.line_id for o in current.obligations} | {o.product for o in current.obligations}
    drops = any(o.line_id not in kept and o.product not in kept for o in previous.obligations)
    return data if drops and _credit_booked(session, opportunity_id, version) else None


def replan_after_credit(session: Session, approval: Approval) -> None:
    """An amendment's credit memo is booked: arm the amendment's post step, which re-plans a
    dropped line now (`to_replan`); for any other amendment it finds everything done."""
    amended = str((approval.payload or {}).get("amendment") or "").rpartition(":v")[2]
    if amended.isdigit() and approval.opportunity_id:
        queue.arm(session, opportunity_id=approval.opportunity_id, version=int(amended),
                  step="post")


def _credit_booked(session: Session, opportunity_id: str, version: int) -> bool:
    """Whether the ERP credit memo of the amendment's credit (`amend_credit`) is booked."""
    for ap in session.scalars(select(Approval).where(
            Approval.opportunity_id == opportunity_id, Approval.kind == "credit")):
        payload = ap.payload or {}
        if payload.get("amendment") == f"{opportunity_id}:v{version}":
            return bool(payload.get("applied") and payload.get("credit_memo"))
    return False


def ssp_table(session: Session, contract: Contract) -> dict[str, Ssp]:
    """The SSPs the deal is judged against: its products' Salesforce fields as last read (the
    stored intake), then closebot's table over them."""
    deal = session.get(Deal, contract.opportunity_id)
    lines = ((deal.raw or {}).get("lines") or []) if deal is not None else []
    try:
        return ssp.prices(session, lines, contract.currency)
    except InvalidDeal:  # a range that holds no price was refused at intake already
        return ssp.book(session, contract.currency)
