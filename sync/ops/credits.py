"""Credit requests: any credit is a non-standard billing event and waits for approval.

Once approved, `apply` creates the Stripe credit note (idempotency key from the approval id), the
ERP credit memo (upserted by the credit note's ID; if the invoice is not posted to the ERP yet,
its post step posts the memo right after it), refreshes the invoice mirror and arms the
write-back so Salesforce gets the new balance. Re-running it after a crash creates nothing twice.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import audit, links, queue
from storage.db import transaction
from storage.tables import Approval, BillingInvoice
from sync.engine import exceptions
from sync.engine.billing_events import refresh_invoice
from sync.engine.runtime import Runtime
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
    """Carry out an approved credit in Stripe, the ERP and the mirror; idempotent."""
    with transaction(deps.sessions) as session:
        ap = session.get(Approval, approval_id)
        if ap is None or ap.kind != "credit" or ap.status != "approved":
            return "not_approved"
        if (ap.payload or {}).get("applied"):
            return "already_applied"
        invoice_id, amount, reason = ap.subject, ap.amount_minor or 0, ap.payload["reason"]
        opp = ap.opportunity_id
    try:
        note = rt.billing.credit_invoice(invoice_id, amount_minor=amount, reason=reason,
                                         key=f"closebot:credit:{approval_id}")
        with transaction(deps.sessions) as session:
            erp_invoice = session.scalar(select(BillingInvoice.erp_invoice_id).where(
                BillingInvoice.billing_id == invoice_id))
        memo = rt.erp.post_credit_memo(note, invoice_id=erp_invoice) if erp_invoice else None
        current = rt.billing.invoice(invoice_id)
    except Exception as error:
        with transaction(deps.sessions) as session:
            exceptions.raise_exception(
                session, opportunity_id=opp, kind="credit", system="stripe",
                reason=f"Credit approval {approval_id} was approved but not applied: {error}",
                detail=f"approval:{approval_id}")
        return "failed"
    with transaction(deps.sessions) as session:
        ap = session.get(Approval, approval_id, with_for_update=True)
        assert ap is not None
        if (ap.payload or {}).get("applied"):
            return "already_applied"
        refresh_invoice(session, current)
        mirror = session.get(BillingInvoice, invoice_id)
        if mirror is not None:
            mirror.credited_minor += amount
        scope = f"credit:{approval_id}"
        links.record(session, scope=scope, system="stripe", kind="credit_note",
                     external_id=note.billing_id, opportunity_id=opp)
        if memo:
            links.record(session, scope=scope, system=rt.erp.name, kind="credit_memo",
                         external_id=memo, opportunity_id=opp)
        ap.payload = {**ap.payload, "applied": True, "credit_note": note.billing_id,
                      "credit_memo": memo, "note": note.model_dump(mode="json")}
        if memo is None and opp and mirror is not None and mirror.contract_version:
            # The invoice is not in the ERP yet: its post step posts this memo right after it.
            queue.arm(session, opportunity_id=opp, version=mirror.contract_version, step="post")
        if opp:
            exceptions.resolve(session, opportunity_id=opp, kinds=["credit"])
        audit.append(session, action="credit.applied", opportunity_id=opp,
                     subject=f"approval:{approval_id}", invoice=invoice_id, amount_minor=amount,
                     downstream=[f"stripe:credit_note:{note.billing_id}",
                                 f"{rt.erp.name}:credit_memo:{memo or 'after invoice posting'}"])
        post_card(session, deps, ap)
    return "applied"
