"""Exceptions and approvals as plain rows (for `--json`) and as text, from the same facts the
Slack alert and the approval card show (`sync.ops.alerts.alert_for`,
`sync.ops.approval_cards.card_for`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import Approval, SyncException, WorkItem
from sync.ops.alerts import alert_for
from sync.ops.approval_cards import card_for
from sync.ops.approvals import needed
from sync.ops.surface import Deps


def exception_rows(session: Session, deps: Deps, *, everything: bool) -> list[dict[str, Any]]:
    query = select(SyncException).order_by(SyncException.id)
    if not everything:
        query = query.where(SyncException.status == "open")
    return [exception_row(session, deps, exc) for exc in session.scalars(query)]


def exception_row(session: Session, deps: Deps, exc: SyncException) -> dict[str, Any]:
    alert = alert_for(session, exc, deps)
    return {
        "id": exc.id, "status": exc.status, "kind": exc.kind, "system": alert.system,
        "opportunity_id": exc.opportunity_id, "deal": alert.deal, "customer": alert.customer,
        "reason": exc.reason, "attempts": exc.attempts, "created_at": exc.created_at,
        "updated_at": exc.updated_at, "resolved_by": exc.resolved_by,
        "resolution": exc.resolution,
    }


def exception_detail(session: Session, deps: Deps, exc: SyncException) -> dict[str, Any]:
    alert = alert_for(session, exc, deps)
    item = session.get(WorkItem, exc.work_item_id) if exc.work_item_id else None
    return {
        **exception_row(session, deps, exc), "fields": alert.fields, "hint": alert.hint,
        "last_error": alert.last_error, "link": alert.link, "detail": exc.detail,
        "resolved_at": exc.resolved_at,
        "work_item": {"id": item.id, "step": item.step, "status": item.status,
                      "contract_version": item.contract_version} if item else None,
    }


def approval_rows(session: Session, deps: Deps, *, everything: bool) -> list[dict[str, Any]]:
    query = select(Approval).order_by(Approval.id)
    if not everything:
        query = query.where(Approval.status == "pending")
    rows = []
    for ap in session.scalars(query):
        card = asdict(card_for(session, ap, deps, needed(ap, deps)))
        rows.append({**card, "opportunity_id": ap.opportunity_id, "created_at": ap.created_at,
                     "decided_at": ap.decided_at})
    return rows


def _deal(row: dict[str, Any]) -> str:
    if row["deal"]:
        return f"{row['deal']} ({row['opportunity_id']})"
    return row["opportunity_id"] or "no deal"


def _attempts(count: int) -> str:
    return f"{count} attempt{'' if count == 1 else 's'}"


def exception_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No open exceptions."]
    out = []
    for row in rows:
        tries = f", {_attempts(row['attempts'])}" if row["attempts"] else ""
        out.append(f"#{row['id']}  {row['status']}  {row['kind']} in {row['system']}  "
                   f"{_deal(row)}{tries}")
        out.append(f"      {row['reason']}")
    return out


def detail_lines(row: dict[str, Any]) -> list[str]:
    facts = [
        ("deal", _deal(row)), ("customer", row["customer"]),
        ("what failed", f"{row['kind']} in {row['system']}"
                        + (f", {_attempts(row['attempts'])}" if row["attempts"] else "")),
        ("reason", row["reason"]), ("last error", row["last_error"]),
        ("fields", ", ".join(row["fields"])), ("what to do", row["hint"]), ("link", row["link"]),
        ("resolved by", row["resolved_by"]), ("resolution", row["resolution"]),
    ]
    return [f"Exception #{row['id']} ({row['status']})"] + [
        f"{label:<12}{value}" for label, value in facts if value]


def approval_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No approvals waiting."]
    out = []
    for row in rows:
        votes = len([d for d in row["decisions"] if d.get("decision") == "approved"])
        out.append(f"#{row['id']}  {row['status']}  {row['kind']}  {row['customer']}: "
                   f"{row['title']}  (requested by {row['requester']}; {votes} of "
                   f"{row['needed']} {'approval' if row['needed'] == 1 else 'approvals'})")
        for reason in row["reasons"]:
            change = (f" ({reason['original']} → {reason['proposed']})"
                      if reason.get("original") and reason.get("proposed") else "")
            out.append(f"      {reason.get('what', '')}{change}")
    return out
