"""A deal's place in its customer's contract history: which earlier deal a renewal renews.

A renewal is its own opportunity. Salesforce names the deal it renews in `Renewal_Of__c` (its
15- or 18-character ID); with that empty and `Type = Renewal`, it is the same account's deal
whose term ends the day before the renewal starts. The renewal continues that deal's Stripe
subscription (`Billing.renew_contract`) and is otherwise a deal like any other: its own ERP
sales order, invoices and revenue schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links
from storage.tables import Deal
from sync.contracts.fields import label
from sync.contracts.terms import salesforce_id
from sync.engine.work import billed_predecessor
from sync.model import Contract

RENEWAL_TYPE = "renewal"


@dataclass(frozen=True)
class Renewal:
    renews: str  # the renewed opportunity
    subscription_id: str | None  # its Stripe subscription, None when it was never billed

    def missing_reason(self, contract: Contract) -> str:
        return (f"{contract.name} is a renewal ({label('Renewal_Of__c')}: {self.renews}), but "
                "closebot has billed no subscription for the deal it renews: bill that deal "
                "first, or clear the renewal fields to start a new subscription.")


def renewal_of(session: Session, contract: Contract) -> Renewal | None:
    """The deal this version's first contract renews, with its subscription, or None."""
    if contract.version != 1 or not contract.recurring:
        return None
    deal = session.get(Deal, contract.opportunity_id)
    fields = ((deal.raw or {}).get("fields") or {}) if deal is not None else {}
    named = salesforce_id(str(fields.get("Renewal_Of__c") or ""))
    if named is None and str(fields.get("Type") or "").strip().lower() == RENEWAL_TYPE:
        named = _ending_before(session, contract)
    if named is None or named == contract.opportunity_id:
        return None
    prior = session.get(Deal, named)
    if prior is None or prior.current_version is None:
        return Renewal(named, None)
    found = billed_predecessor(session, prior.opportunity_id, prior.current_version + 1)
    return Renewal(prior.opportunity_id, found[1] if found else None)


def _ending_before(session: Session, contract: Contract) -> str | None:
    """The same account's deal whose term ends the day before this one starts."""
    day_before = contract.billing.start - timedelta(days=1)
    for deal in session.scalars(select(Deal).where(
            Deal.account_id == contract.customer.crm_account_id,
            Deal.opportunity_id != contract.opportunity_id)):
        end = ((deal.raw or {}).get("fields") or {}).get("Contract_End_Date__c")
        if str(end)[:10] == day_before.isoformat() and links.find(
                session, links.contract_scope(deal.opportunity_id, deal.current_version or 0),
                "stripe", "subscription"):
            return deal.opportunity_id
    return None

