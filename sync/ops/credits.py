"""Credit requests: any credit is a non-standard billing event and waits for approval.

The approval arms a durable credit step (`sync/engine/credit.py`): the Stripe credit note, the
ERP credit memo and the mirror's new balance, with the retries and exceptions of any step.
`apply` runs that step at once after the click, so the person sees the result in seconds.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import audit
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, WorkItem
from sync.engine import credit
from sync.engine.runtime import Runtime
from sync.engine.worker import run_items
from sync.money import MoneyError, format_money, to_minor
from sync.ops.approvals import post_card
from sync.ops.surface import BadInput, Deps

_AMOUNT = re.compile(r"^[A-Za-z$€£ ]*([0-9][0-9,]*(?:\.[0-9]+)?)\s*[A-Za-z]*$")


def find_invoice(session: Session, ref: str) -> BillingInvoice | None:
    ref = ref.strip()
    return session.scalar(select(BillingInvoice).where(
        or_(BillingInvoice.number == ref, BillingInvoice.billing_id == ref)).limit(1))


def parse_amount(text: str, currency: str) -> int:
    match = _AMOUNT.match(text.strip())
    if not match:
        raise BadInput(f"“{text}” is not an amount. Try 1500 or 1,500.00.", field="amount")
    try:
        return to_minor(Decimal(match.group(1).replace(",", "")), currency)
    except (InvalidOperation, MoneyError) as exc:
        raise BadInput(f"“{text}” is not a valid {currency} amount.", field="amount") from exc


def request(deps: Deps, *, invoice: str, amount: str, reason: str, user: str) -> int:
    """Open a credit approval and queue its card; returns the approval id."""
    if not reason.strip():
        raise BadInput("Please say why the customer gets this credit.", field="reason")
    for _ in range(3):
        try:
            with transaction(deps.sessions) as session:
                return _open(session, deps, invoice=invoice, amount=amount,
                             reason=reason.strip(), user=user)
        except IntegrityError:
            continue  # two requests on one invoice took the same sequence number; take the next
    raise BadInput("Another credit on this invoice is being requested; try again.")


def _open(session: Session, deps: Deps, *, invoice: str, amount: str, reason: str,
          user: str) -> int:
    row = find_invoice(session, invoice)
    if row is None:
        raise BadInput(f"No invoice “{invoice}”. Use the invoice number, e.g. `/credit "
                       "ACME-0001 1500 goodwill`.", field="invoice")
    minor = parse_amount(amount, row.currency)
    room = row.total_minor - row.credited_minor
    if not 0 < minor <= room:
        raise BadInput(f"A credit on {row.number} must be more than zero and at most "
                       f"{format_money(room, row.currency)}.", field="amount")
    seq = session.scalar(select(func.count()).where(
        Approval.kind == "credit", Approval.subject == row.billing_id)) or 0
    ap = Approval(kind="credit", subject=row.billing_id, opportunity_id=row.opportunity_id,
                  contract_version=seq + 1, requested_by=user, amount_minor=minor,
                  currency=row.currency, status="pending", version=1, decisions=[],
                  reasons=[{"kind": "credit", "what": f"Credit requested: {reason}",
                            "original": format_money(row.amount_remaining_minor, row.currency),
                            "proposed": format_money(minor, row.currency)}],
                  payload={"reason": reason, "invoice_number": row.number,
                           "customer": row.customer_name})
    session.add(ap)
    session.flush()
    audit.append(session, action="credit.requested", actor=user,
                 opportunity_id=row.opportunity_id, subject=f"approval:{ap.id}",
                 invoice=row.billing_id, amount_minor=minor, currency=row.currency,
                 reason=reason)
    post_card(session, deps, ap)
    return ap.id


def apply(rt: Runtime, deps: Deps, approval_id: int) -> str:
    """Run an approved credit's step now, right after the decision; the queue worker runs it
    otherwise (and retries it). Returns `applied`, `already_applied`, `queued` (it failed for
    now or another worker holds it) or `not_approved`."""
    with transaction(deps.sessions) as session:
        ap = session.get(Approval, approval_id)
        if ap is None or ap.kind != "credit" or ap.status != "approved":
            return "not_approved"
        if (ap.payload or {}).get("applied"):
            return "already_applied"
        item = session.scalar(select(WorkItem.id).where(
            WorkItem.step == f"{credit.STEP}:{approval_id}"))
    if item is not None:
        run_items(rt, credit.STEP, [item])
    with transaction(deps.sessions) as session:
        ap = session.get(Approval, approval_id)
        return "applied" if ap is not None and (ap.payload or {}).get("applied") else "queued"
