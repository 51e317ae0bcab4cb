"""Write-back: push closebot's view of each deal to the CRM, up to 200 records a call.

The update is computed from the database at send time (desired state), so a write-back armed
several times before it runs sends one update, and a replay sends the same values again.
Everything for a batch is read in a handful of queries, not a few per deal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links
from storage.ops_tables import CashFact
from storage.tables import Approval, BillingInvoice, Deal, IdLink, SyncException
from sync.money import from_minor
from sync.ports import CrmUpdate

SYNC_STATUS = {
    "pending": "Pending",
    "synced": "Synced",
    "exception": "Failed",
    "awaiting_approval": "Requires Review",
    "rejected": "Rejected",
}


def desired_update(session: Session, opportunity_id: str, *, erp: str, now: datetime) -> CrmUpdate:
    return desired_updates(session, [opportunity_id], erp=erp, now=now)[opportunity_id]


def desired_updates(
    session: Session, opportunity_ids: Sequence[str], *, erp: str, now: datetime
) -> dict[str, CrmUpdate]:
    ids = list(dict.fromkeys(opportunity_ids))
    deals = {d.opportunity_id: d for d in session.scalars(
        select(Deal).where(Deal.opportunity_id.in_(ids)))}
    missing = set(ids) - set(deals)
    if missing:
        raise LookupError(f"unknown deals {sorted(missing)}")
    scopes = [links.account_scope(d.account_id) for d in deals.values() if d.account_id]
    scopes += [links.contract_scope(d.opportunity_id, d.current_version)
               for d in deals.values() if d.current_version]
    found = {(ln.scope, ln.system, ln.kind): ln.external_id for ln in session.scalars(
        select(IdLink).where(IdLink.scope.in_(scopes)))} if scopes else {}
    errors: dict[str, str] = {}
    for opp, reason in session.execute(
        select(SyncException.opportunity_id, SyncException.reason)
        .where(SyncException.opportunity_id.in_(ids), SyncException.status == "open")
        .order_by(SyncException.id)
    ):
        errors[opp] = reason
    approvals: dict[str, str] = {}
    for opp, status in session.execute(
        select(Approval.opportunity_id, Approval.status)
        .where(Approval.opportunity_id.in_(ids)).order_by(Approval.id)
    ):
        approvals[opp] = status
    invoices: dict[str, list[BillingInvoice]] = defaultdict(list)
    for row in session.scalars(
        select(BillingInvoice).where(BillingInvoice.opportunity_id.in_(ids))
    ):
        invoices[row.opportunity_id or ""].append(row)
    cash: dict[str, list[CashFact]] = defaultdict(list)
    for fact in session.scalars(
        select(CashFact).where(CashFact.opportunity_id.in_(ids))
        .order_by(CashFact.occurred_on, CashFact.object_id)
    ):
        cash[fact.opportunity_id].append(fact)
    updates = {
        opp: _update(deals[opp], found, errors.get(opp), approvals.get(opp),
                     invoices.get(opp, []), erp=erp, now=now)
        for opp in ids
    }
    for opp, update in updates.items():
        update.fields.update(_cash_fields(cash.get(opp, []), invoices.get(opp, [])))
    return updates


def _update(
    deal: Deal,
    found: dict[tuple[str, str, str], str],
    error: str | None,
    approval: str | None,
    invoices: list[BillingInvoice],
    *,
    erp: str,
    now: datetime,
) -> CrmUpdate:
    fields: dict[str, Any] = {
        "Sync_Status__c": SYNC_STATUS.get(deal.status, "Pending"),
        "Last_Sync_Time__c": now,
        "Sync_Error__c": error[:32000] if error else (
            deal.message if deal.status == "rejected" else None),
    }
    account_fields: dict[str, Any] = {}
    if deal.account_id:
        scope = links.account_scope(deal.account_id)
        for system, field in (("stripe", "Stripe_Customer_Id__c"), (erp, "ERP_Customer_Id__c")):
            value = found.get((scope, system, "customer"))
            if value:
                fields[field] = value
                if (deal.raw.get("fields") or {}).get(f"Account.{field}") != value:
                    account_fields[field] = value
    if deal.current_version:
        scope = links.contract_scope(deal.opportunity_id, deal.current_version)
        for key, field in ((("stripe", "subscription"), "Stripe_Subscription_Id__c"),
                           ((erp, "sales_order"), "ERP_Sales_Order_Id__c")):
            value = found.get((scope, *key))
            if value:
                fields[field] = value
    fields.update(_invoice_fields(invoices))
    if approval:
        fields["Approval_Status__c"] = approval.capitalize()
    return CrmUpdate(
        opportunity_id=deal.opportunity_id,
        fields=fields,
        account_id=deal.account_id if account_fields else None,
        account_fields=account_fields,
    )


def _invoice_fields(rows: list[BillingInvoice]) -> dict[str, Any]:
    if not rows:
        return {}
    rows = sorted(rows, key=lambda r: (r.issued_on or datetime.min.date(), r.billing_id))
    latest = rows[-1]
    outstanding = sum(r.amount_remaining_minor for r in rows if r.status == "open")
    paid = [r.paid_at for r in rows if r.paid_at is not None]
    fields: dict[str, Any] = {
        "Invoice_Number__c": latest.number,
        "Invoice_Status__c": latest.status.capitalize(),
        "Outstanding_Balance__c": from_minor(outstanding, latest.currency),
    }
    if latest.erp_invoice_id:
        fields["ERP_Invoice_Id__c"] = latest.erp_invoice_id
    if paid:
        fields["Payment_Date__c"] = max(paid).date()
    return fields


# Stripe's dispute statuses as the picklist shows them. An inquiry the bank closed without a
# chargeback (`warning_closed`) or one prevented before it became one leaves the money with us.
DISPUTE_STATUS = {"needs_response": "Needs Response", "warning_needs_response": "Needs Response",
                  "under_review": "Under Review", "warning_under_review": "Under Review",
                  "won": "Won", "warning_closed": "Won", "prevented": "Won", "lost": "Lost"}


def _cash_fields(facts: list[CashFact], invoices: list[BillingInvoice]) -> dict[str, Any]:
    """What was refunded (booked credit memos, summed in the deal's invoice currency: a deal is
    billed in one) and the latest dispute's status; nothing for a deal with neither."""
    fields: dict[str, Any] = {}
    refunds = [f for f in facts if f.kind == "refund"]
    if refunds:
        currency = invoices[0].currency if invoices else refunds[0].currency
        fields["Refunded_Amount__c"] = from_minor(
            sum(f.amount_minor for f in refunds if f.currency == currency
                and f.status != "failed"), currency)
    disputes = [f for f in facts if f.kind == "dispute"]
    if disputes:
        fields["Dispute_Status__c"] = DISPUTE_STATUS.get(disputes[-1].status, "Under Review")
    return fields
