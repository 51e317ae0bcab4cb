"""Credits in the chaos run: people approve credits while the workers are faulted and killed.

Requests and approvals go through the same services as the Slack buttons (`sync.ops.credits`,
`sync.ops.approvals`), so each approval only records the decision and arms a durable credit
step that a (faulted, killable) worker applies. The verdict: every approved credit applied once,
with exactly one Stripe credit note per approval (notes are found by their idempotency-key
metadata) and a memo in the ERP (the audit's AR check catches a missing one).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.slack_app import build_deps
from storage.db import transaction
from storage.tables import Approval, BillingInvoice
from sync.engine.runtime import Runtime
from sync.money import from_minor
from sync.ops import approvals, credits
from sync.ops.surface import Deps

REQUESTER, APPROVER = "UCHAOSREQ", "UCHAOSAPPROVER"


class _NoDirectory:
    def user_for_email(self, email: str) -> str | None:
        return None

    def group_members(self, group_id: str) -> frozenset[str]:
        return frozenset()


def credit_deps(settings: Settings, sessions: sessionmaker[Session]) -> Deps:
    settings = settings.model_copy(update={"slack_approvers": APPROVER})
    return build_deps(settings, sessions, _NoDirectory())


def approve_one(deps: Deps, done: set[str]) -> bool:
    """Request and approve a small credit on an open invoice not credited yet by this run."""
    with transaction(deps.sessions) as session:
        invoice = session.scalar(
            select(BillingInvoice).where(BillingInvoice.status == "open",
                                         BillingInvoice.billing_id.not_in(done or {""}),
                                         BillingInvoice.total_minor >= 100)
            .order_by(BillingInvoice.billing_id).limit(1))
        if invoice is None:
            return False
        billing_id, total, currency = invoice.billing_id, invoice.total_minor, invoice.currency
    done.add(billing_id)
    amount = from_minor(max(1, min(total // 100, 100_000)), currency)
    approval = credits.request(deps, invoice=billing_id, amount=str(amount),
                               reason="chaos goodwill", user=REQUESTER)
    with transaction(deps.sessions) as session:
        version = session.get(Approval, approval).version  # type: ignore[union-attr]
    approvals.decide(deps, approvals.ApprovalRef(id=approval, v=version), user=APPROVER,
                     approve=True)
    return True


def unapplied(sessions: sessionmaker[Session]) -> int:
    """Approved credits the workers haven't applied yet."""
    with transaction(sessions) as session:
        return sum(1 for ap in session.scalars(select(Approval).where(
            Approval.kind == "credit", Approval.status == "approved"))
            if not (ap.payload or {}).get("applied"))


def verdict(rt: Runtime, sessions: sessionmaker[Session]) -> dict[str, Any]:
    with transaction(sessions) as session:
        approved = session.scalars(select(Approval).where(
            Approval.kind == "credit", Approval.status == "approved")).all()
        keys = {f"closebot:credit:{ap.id}" for ap in approved}
        applied = sum(1 for ap in approved if (ap.payload or {}).get("applied"))
    notes: Counter[str] = Counter()
    starting_after = None
    while True:  # every credit note in Stripe, grouped by the approval that asked for it
        params: dict[str, Any] = {"limit": 100}
        if starting_after:
            params["starting_after"] = starting_after
        page = rt.billing._call("credit_notes.list", "get", "/v1/credit_notes", params)  # type: ignore[attr-defined]
        for note in page["data"]:
            notes[(note.get("metadata") or {}).get("closebot_key", "")] += 1
        if not page.get("has_more") or not page["data"]:
            break
        starting_after = page["data"][-1]["id"]
    return {"approved": len(approved), "applied": applied,
            "duplicate_notes": sum(n - 1 for k, n in notes.items() if k in keys and n > 1),
            "lost": sum(1 for k in keys if notes[k] == 0) + len(approved) - applied}
