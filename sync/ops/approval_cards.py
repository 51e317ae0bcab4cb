"""The facts an approval card shows, as plain data for the Block Kit builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from storage.tables import Approval, BillingInvoice, Deal
from sync.money import format_money
from sync.ops.surface import Deps


@dataclass(frozen=True)
class ApprovalCard:
    id: int
    version: int
    kind: str
    status: str
    customer: str
    title: str
    requester: str  # what was recorded: a Slack user ID or the deal owner's email
    reasons: list[dict[str, Any]]
    downstream: str
    needed: int
    decisions: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    link: str | None = None
    requester_user: str | None = None  # the requester's Slack user ID, for a mention


def requester_id(ap: Approval, deps: Deps) -> str | None:
    """The Slack user who asked: credits record one; deal approvals record the owner's email."""
    who = ap.requested_by or ""
    if "@" in who:
        return deps.directory.user_for_email(who)
    return who or None


def card_for(session: Session, ap: Approval, deps: Deps, needed: int) -> ApprovalCard:
    payload = ap.payload or {}
    amount = format_money(ap.amount_minor, ap.currency) if ap.amount_minor and ap.currency else ""
    if ap.kind == "credit":
        invoice = session.get(BillingInvoice, ap.subject)
        number = invoice.number if invoice and invoice.number else ap.subject
        title = f"Credit of {amount} on invoice {number}"
        customer = (invoice.customer_name if invoice else None) or payload.get("customer") or "?"
        downstream = (f"On approval: a Stripe credit note of {amount} against {number}, a credit "
                      "memo in the ERP, and the new balance written back to Salesforce.")
        reasons = [{"what": f"Credit requested: {payload.get('reason', '')}",
                    "original": format_money(invoice.amount_remaining_minor, invoice.currency)
                    if invoice else "", "proposed": amount}]
        link = deps.links.stripe_invoice(ap.subject)
    elif ap.kind == "close":
        ends = payload.get("ends_on")
        customer = f"{date.fromisoformat(ends):%B %Y}" if ends else ap.subject
        title = f"Close the books for {customer}"
        downstream = ("On approval by two different people: the period's revenue is posted, the "
                      "period is locked (anything later that belongs in it posts on the first "
                      "open day, with a note) and the deferred-revenue roll-forward is posted "
                      "here. On reject: the period stays open and a new card follows.")
        reasons, link = list(ap.reasons or []), None
    else:
        deal = session.get(Deal, ap.opportunity_id) if ap.opportunity_id else None
        title = f"{payload.get('deal') or (deal.name if deal else ap.subject)} · {amount}"
        customer = payload.get("customer") or (deal.account_name if deal else None) or "?"
        downstream = (f"On approval: contract v{ap.contract_version} is billed in Stripe, posted "
                      "to the ERP and the IDs are written back to Salesforce. On reject: nothing "
                      "is created and the reason goes to Salesforce.")
        reasons = list(ap.reasons or [])
        link = deps.links.opportunity(ap.opportunity_id)
    return ApprovalCard(
        id=ap.id, version=ap.version, kind=ap.kind, status=ap.status, customer=customer,
        title=title, requester=ap.requested_by or "unknown", reasons=reasons,
        downstream=downstream, needed=needed, decisions=list(ap.decisions or []),
        reason=ap.reason, link=link, requester_user=requester_id(ap, deps),
    )
