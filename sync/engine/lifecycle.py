"""A deal's place in its customer's contract history: which earlier deal a renewal renews, and
what an early cancellation credits.

A renewal is its own opportunity. Salesforce names the deal it renews in `Renewal_Of__c` (its
15- or 18-character ID); with that empty and `Type = Renewal`, it is the same account's deal
whose term ends the day before the renewal starts. The renewal continues that deal's Stripe
subscription (`Billing.renew_contract`) and is otherwise a deal like any other: its own ERP
sales order, invoices and revenue schedules.

An early cancellation is the opportunity's `Cancellation_Date__c` (the last day of service): a
new contract version whose bill step ends the subscription after that day (no proration) and
whose record arms one credit per invoice that billed service after it, for that unused part by
whole months. Each credit is an approval Salesforce made (the date is the decision), run by the
durable credit step when the cancellation takes effect: a Stripe credit note on the invoice and
an ERP credit memo, which the ledger takes from deferred revenue and the schedule rows after
the date, so recognition stops there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links, queue
from storage.tables import Approval, BillingInvoice, Deal
from sync.contracts.fields import label
from sync.contracts.terms import salesforce_id
from sync.engine.work import billed_predecessor
from sync.model import Contract, InvoiceLine

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



def arm_cancellation_credits(session: Session, contract: Contract) -> int:
    """Record and queue the credits of a cancelled contract version; returns how many. A credit
    already recorded for an invoice and this version is not made again."""
    assert contract.canceled_on is not None
    ends = contract.canceled_on + timedelta(days=1)
    opp = contract.opportunity_id
    armed = 0
    for row in session.scalars(select(BillingInvoice).where(
            BillingInvoice.opportunity_id == opp,
            BillingInvoice.status.in_(("open", "paid")))):
        lines = [InvoiceLine.model_validate(line) for line in row.lines or []]
        unused = sum(unused_minor(line, ends) for line in lines) - (row.credited_minor or 0)
        if unused <= 0 or session.scalar(select(Approval.id).where(
                Approval.subject == row.billing_id, Approval.kind == "credit",
                Approval.contract_version == contract.version)):
            continue
        why = (f"{contract.name} was cancelled: service ends {contract.canceled_on}, so the "
               f"service invoice {row.number or row.billing_id} billed after it is credited")
        ap = Approval(
            kind="credit", subject=row.billing_id, opportunity_id=opp,
            contract_version=contract.version, requested_by=None,
            reasons=[{"kind": "cancellation", "message": why}], amount_minor=unused,
            currency=row.currency, status="approved",
            decided_at=datetime.combine(ends, time(), UTC),
            decisions=[{"by": f"Salesforce {label('Cancellation_Date__c')}",
                        "decision": "approved"}],
            payload={"reason": why, "cancellation": str(contract.canceled_on)})
        session.add(ap)
        session.flush()
        queue.arm(session, opportunity_id=opp, version=row.contract_version or 0,
                  step=f"credit:{ap.id}", at=datetime.combine(ends, time(), UTC))
        armed += 1
    return armed


def unused_minor(line: InvoiceLine, ends: date) -> int:
    """What a recurring line billed for its whole months from `ends` to its period's end."""
    if not line.recurring or not line.period_start or not line.period_end:
        return 0
    if ends >= line.period_end:
        return 0
    whole = _months(line.period_start, line.period_end)
    after = _months(max(ends, line.period_start), line.period_end)
    if whole <= 0:
        return 0
    return (2 * line.amount_minor * after + whole) // (2 * whole)  # half up


def _months(start: date, end: date) -> int:
    """Months from `start` to the exclusive `end`, a started month counting as one."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months + (1 if end.day > start.day else 0)
