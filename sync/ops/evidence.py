"""SOX evidence for a period: every decision a person took, from the append-only audit log.

A row is one audit-log entry whose actor is a person (anything but closebot itself): approval
decisions, credit requests, retries and dismissals, whether taken in Slack or on the CLI. Each
row carries what was asked, the values before and after, the decision and its reason, and the
Stripe and ERP records it led to, found through closebot's ID links. Periods are calendar months
(`2026-10`) or quarters (`2026-Q4`) in UTC, start included and end excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import Approval, AuditEntry, Deal, SyncException, WorkItem
from storage.timeutil import aware
from sync.money import format_money
from sync.ops.evidence_links import approval_records, step_records
from sync.ops.surface import BadInput

SYSTEM_ACTOR = "closebot"
_PERIOD = re.compile(r"^(\d{4})-(?:(\d{2})|Q([1-4]))$")
# audit action → (what the row is, the decision it records)
ACTIONS = {
    "approval.approved": ("approval decision", "approved"),
    "approval.rejected": ("approval decision", "rejected"),
    "approval.first_approval": ("approval decision", "approved, waiting for a second approver"),
    "credit.requested": ("credit request", "requested"),
    "exception.retry": ("retry", "retried"),
    "exception.dismissed": ("dismissal", "dismissed"),
}


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime  # excluded

    @property
    def span(self) -> str:
        last = datetime.fromordinal(self.end.toordinal() - 1)
        return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}, UTC"


def parse_period(text: str) -> Period:
    label = text.strip().upper()
    match = _PERIOD.match(label)
    month = int(match.group(2)) if match and match.group(2) else None
    if match is None or (month is not None and not 1 <= month <= 12):
        raise BadInput(f"“{text.strip()}” is not a period: give a month as YYYY-MM (e.g. "
                       "2026-10) or a quarter as YYYY-Qn (e.g. 2026-Q4).")
    year = int(match.group(1))
    first = month if month is not None else (int(match.group(3)) - 1) * 3 + 1
    months = 1 if month is not None else 3
    end_year, end_month = divmod(first - 1 + months, 12)
    return Period(label, datetime(year, first, 1, tzinfo=UTC),
                  datetime(year + end_year, end_month + 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class EvidenceRow:
    at: datetime
    who: str
    action: str
    decision: str
    reference: str  # "approval 3", "exception 7"
    opportunity_id: str | None = None
    deal: str = ""
    customer: str = ""
    request: str = ""  # what was asked or what had failed
    reason: str = ""  # the reason the person gave
    before: str = ""
    after: str = ""
    stripe: list[str] = field(default_factory=list)
    erp: list[str] = field(default_factory=list)


def empty_message(period: Period) -> str:
    return f"no approvals, credits or manual actions in {period.label}"


def collect(session: Session, period: Period, *, erp: str) -> list[EvidenceRow]:
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.at >= period.start, AuditEntry.at < period.end,
               AuditEntry.actor != SYSTEM_ACTOR)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return [_row(session, entry, erp) for entry in entries]


def _row(session: Session, entry: AuditEntry, erp: str) -> EvidenceRow:
    data: dict[str, Any] = entry.data or {}
    action, decision = ACTIONS.get(entry.action, (entry.action, entry.action.rpartition(".")[2]))
    kind, _, ident = (entry.subject or "").partition(":")
    base: dict[str, Any] = {
        "at": aware(entry.at), "who": entry.actor, "action": action, "decision": decision,
        "reference": f"{kind} {ident}".strip(), "opportunity_id": entry.opportunity_id,
    }
    deal = session.get(Deal, entry.opportunity_id) if entry.opportunity_id else None
    if deal is not None:
        base.update(deal=deal.name, customer=deal.account_name or "")
    if kind == "approval" and ident.isdigit():
        return _approval_row(session.get(Approval, int(ident)), entry, data, base, session, erp)
    if kind == "exception" and ident.isdigit():
        exc = session.get(SyncException, int(ident))
        return _exception_row(exc, entry, data, base, session, erp)
    return EvidenceRow(**base, reason=str(data.get("reason") or data.get("resolution") or ""))


def _approval_row(ap: Approval | None, entry: AuditEntry, data: dict[str, Any],
                  base: dict[str, Any], session: Session, erp: str) -> EvidenceRow:
    reasons = (ap.reasons if ap else None) or data.get("reasons") or []
    request = "; ".join(str(r.get("what") or "") for r in reasons if r.get("what"))
    before = "; ".join(str(r.get("original")) for r in reasons if r.get("original"))
    after = "; ".join(str(r.get("proposed")) for r in reasons if r.get("proposed"))
    if ap is not None and ap.kind == "credit":
        payload = ap.payload or {}
        request = f"credit on invoice {payload.get('invoice_number') or ap.subject}"
        base["customer"] = base.get("customer") or str(payload.get("customer") or "")
        before = f"open balance {before}" if before else ""
        if ap.amount_minor is not None and ap.currency:
            after = f"credit of {format_money(ap.amount_minor, ap.currency)}"
    stripe, erp_records = approval_records(session, ap, erp) if ap else ([], [])
    if entry.action == "approval.rejected":
        stripe, erp_records = [], []
    return EvidenceRow(**base, request=request, reason=str(data.get("reason") or ""),
                       before=before, after=after, stripe=stripe, erp=erp_records)


def _exception_row(exc: SyncException | None, entry: AuditEntry, data: dict[str, Any],
                   base: dict[str, Any], session: Session, erp: str) -> EvidenceRow:
    failure = exc.reason if exc else ""
    before = "exception open"  # its reason is the row's request
    if entry.action == "exception.retry":
        item = session.get(WorkItem, exc.work_item_id) if exc and exc.work_item_id else None
        step = item.step if item else (exc.kind if exc else "the failed")
        stripe, erp_records = step_records(session, item, erp) if item else ([], [])
        return EvidenceRow(**base, request=failure, before=before,
                           after=f"{step} step queued again", stripe=stripe, erp=erp_records)
    reason = str(data.get("resolution") or data.get("reason") or "")
    return EvidenceRow(**base, request=failure, reason=reason, before=before,
                       after=base["decision"])
