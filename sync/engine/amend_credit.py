"""A decrease's credit: when an amendment lowers what the current billing period is worth, the
unused time at the old price (less the remaining time at the new one) is credited on the invoice
that billed that period.

Billing the amendment records the credit as an approved credit of that invoice (the amendment
itself was within policy or approved, which covers the credit that follows from it) and arms the
credit step, so it is applied like any credit: one Stripe credit note under an idempotency key
from the approval, one ERP credit memo that takes it out of deferred revenue and re-plans the
period's schedule (sync/ledger/replan.py). One approval per amending version (marked in its
payload): a replayed bill step finds it and adds nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit
from storage.tables import Approval, BillingInvoice
from sync.contracts.amendments import amend
from sync.engine import credit, exceptions
from sync.model import Contract
from sync.money import format_money

KIND = "credit"


def covering_invoice(session: Session, opportunity_id: str, on: date) -> BillingInvoice | None:
    """The latest live invoice of the deal with a recurring line whose period holds `on`."""
    found = None
    for row in session.scalars(select(BillingInvoice).where(
            BillingInvoice.opportunity_id == opportunity_id,
            BillingInvoice.status.in_(("open", "paid"))).order_by(BillingInvoice.issued_on)):
        for line in row.lines or []:
            start, end = line.get("period_start"), line.get("period_end")
            if line.get("recurring") and start and end and (
                    date.fromisoformat(start) <= on < date.fromisoformat(end)):
                found = row
    return found


def arm_decrease_credit(session: Session, previous: Contract, current: Contract,
                        effective: date) -> int | None:
    """Record and arm the decrease's credit, if the amendment has one; its approval id."""
    amount = amend(previous, current, effective).credit
    if amount <= 0:
        return None
    opp, version = current.opportunity_id, current.version
    invoice = covering_invoice(session, opp, effective)
    if invoice is None:
        exceptions.raise_exception(
            session, opportunity_id=opp, kind=KIND, system="stripe",
            reason=f"{current.name}: the lower price from {effective} leaves a credit of "
            f"{format_money(amount, current.currency)} for the current billing period, but no "
            "Stripe invoice of the deal bills that period. Issue the credit with /credit on "
            "the invoice that billed it.")
        return None
    credits = list(session.scalars(select(Approval).where(
        Approval.subject == invoice.billing_id, Approval.kind == KIND)))
    for found in credits:
        if (found.payload or {}).get("amendment") == f"{opp}:v{version}":
            return found.id
    # Numbered among the invoice's credits as `/credit` numbers them (one sequence per invoice).
    ap = Approval(kind=KIND, subject=invoice.billing_id, opportunity_id=opp,
                  contract_version=len(credits) + 1, requested_by=None, amount_minor=amount,
                  currency=current.currency, status="approved", version=1, decisions=[],
                  reasons=[], payload={"reason": f"Lower price from {effective} (contract "
                                       f"version {version}): unused time of the current period",
                                       "amendment": f"{opp}:v{version}",
                                       "invoice_number": invoice.number,
                                       "customer": invoice.customer_name})
    session.add(ap)
    session.flush()
    credit.arm(session, ap)
    audit.append(session, action="amendment.credit", opportunity_id=opp,
                 subject=f"approval:{ap.id}", invoice=invoice.billing_id, amount_minor=amount)
    return ap.id
