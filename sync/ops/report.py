"""Per-deal summaries and chains of custody, read from closebot's own database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links
from storage.tables import (
    Approval,
    BillingInvoice,
    ContractVersion,
    Deal,
    IdLink,
    SyncException,
)
from sync.money import format_money, from_minor
from sync.ops.trace_cash import cash_hops


def deal_summaries(session: Session, *, erp: str = "ledger") -> list[dict[str, Any]]:
    deals = session.scalars(select(Deal).order_by(Deal.first_seen_at, Deal.opportunity_id))
    return [deal_summary(session, deal, erp=erp) for deal in deals]


def deal_summary(session: Session, deal: Deal, *, erp: str = "ledger") -> dict[str, Any]:
    contract = _contract(session, deal)
    obligations = [
        {
            "product": o["product"],
            "amount": str(from_minor(o["amount_minor"], contract["billing"]["currency"])),
            "recurring": o["recurring"],
            "periods": o["periods"],
            "recognition": o["recognition"],
        }
        for o in (contract or {}).get("obligations", [])
    ]
    found = {(ln.system, ln.kind): ln.external_id for ln in _links(session, deal)}
    invoices = list(
        session.scalars(
            select(BillingInvoice).where(BillingInvoice.opportunity_id == deal.opportunity_id)
        )
    )
    exception = session.scalar(
        select(SyncException.reason)
        .where(SyncException.opportunity_id == deal.opportunity_id, SyncException.status == "open")
        .order_by(SyncException.id.desc())
        .limit(1)
    )
    approval = session.scalar(
        select(Approval).where(Approval.opportunity_id == deal.opportunity_id)
        .order_by(Approval.id.desc()).limit(1)
    )
    return {
        "opportunity_id": deal.opportunity_id,
        "name": deal.name,
        "customer": deal.account_name,
        "amount": str(from_minor(deal.amount_minor, deal.currency))
        if deal.amount_minor is not None and deal.currency else None,
        "currency": deal.currency,
        "status": deal.status,
        "contract_version": deal.current_version,
        "obligations": obligations,
        "stripe": {
            "customer": found.get(("stripe", "customer")),
            "subscription": found.get(("stripe", "subscription")),
            "invoices": [i.billing_id for i in invoices],
        },
        "erp": {
            "system": erp,
            "customer": found.get((erp, "customer")),
            "sales_order": found.get((erp, "sales_order")),
            "invoices": [i.erp_invoice_id for i in invoices if i.erp_invoice_id],
        },
        "invoices": [
            {"number": i.number, "status": i.status,
             "total": format_money(i.total_minor, i.currency),
             "outstanding": format_money(i.amount_remaining_minor, i.currency)}
            for i in invoices
        ],
        "approval": {"status": approval.status, "reasons": [r["what"] for r in approval.reasons]}
        if approval else None,
        "exception": exception,
    }


def _contract(session: Session, deal: Deal) -> dict[str, Any] | None:
    if not deal.current_version:
        return None
    row = session.scalar(
        select(ContractVersion).where(
            ContractVersion.opportunity_id == deal.opportunity_id,
            ContractVersion.version == deal.current_version,
        )
    )
    return row.body if row else None


def _links(session: Session, deal: Deal) -> list[IdLink]:
    found = links.for_opportunity(session, deal.opportunity_id)
    if deal.account_id:
        scope = links.account_scope(deal.account_id)
        found += list(session.scalars(select(IdLink).where(IdLink.scope == scope)))
    # A contract's record is the newest version's that has it: a changed contract waiting for
    # approval still bills on the subscription of the version billed before it.
    newest: dict[tuple[str, str], tuple[int, IdLink]] = {}
    for ln in found:
        if ln.scope.startswith("contract:"):
            version = int(ln.scope.rsplit(":v", 1)[1])
            held = newest.get((ln.system, ln.kind))
            if version <= (deal.current_version or 0) and (held is None or held[0] < version):
                newest[(ln.system, ln.kind)] = (version, ln)
    kept = {ln.id for _, ln in newest.values()}
    return [ln for ln in found if not ln.scope.startswith("contract:") or ln.id in kept]


def trace(session: Session, opportunity_id: str, *, erp: str = "ledger") -> list[dict[str, Any]]:
    """The chain of custody hop by hop; a hop that should exist but doesn't is flagged missing."""
    deal = session.get(Deal, opportunity_id)
    if deal is None:
        return []
    summary = deal_summary(session, deal, erp=erp)
    held = deal.status in ("awaiting_approval", "rejected") or not deal.current_version
    hops: list[dict[str, Any]] = [
        {"hop": "Salesforce opportunity", "id": deal.opportunity_id, "state": deal.status,
         "detail": f"{deal.name} · {_deal_amount(deal)}"},
    ]

    def hop(label: str, value: str | None, *, expected: bool = not held) -> None:
        hops.append({"hop": label, "id": value,
                     "state": "ok" if value else ("missing" if expected else "not yet")})

    hop("Stripe customer", summary["stripe"]["customer"])
    hop("Stripe subscription", summary["stripe"]["subscription"],
        expected=not held and any(o["recurring"] for o in summary["obligations"]))
    invoices = list(session.scalars(
        select(BillingInvoice).where(BillingInvoice.opportunity_id == opportunity_id)
        .order_by(BillingInvoice.issued_on)
    ))
    cash = cash_hops(session, invoices)
    for inv in invoices:
        hops.append({"hop": "Stripe invoice", "id": inv.billing_id, "state": inv.status,
                     "detail": f"{inv.number} · {format_money(inv.total_minor, inv.currency)}"})
        hop(f"{erp} invoice for {inv.number}", inv.erp_invoice_id,
            expected=inv.status != "draft")
        if inv.amount_paid_minor:
            hops.append({"hop": "Payment", "id": f"{inv.billing_id}:paid", "state": "ok",
                         "detail": format_money(inv.amount_paid_minor, inv.currency)})
        hops += cash[inv.billing_id]
    hop(f"{erp} customer", summary["erp"]["customer"])
    hop(f"{erp} sales order", summary["erp"]["sales_order"])
    if summary["exception"]:
        hops.append({"hop": "Open exception", "id": None, "state": "exception",
                     "detail": summary["exception"]})
    return hops


def _deal_amount(deal: Deal) -> str:
    if deal.amount_minor is None or not deal.currency:
        return "no amount"
    return format_money(deal.amount_minor, deal.currency)
