"""The local mirror of billing invoices."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import BillingInvoice
from sync.model import Invoice

# An uncollectible invoice can still be paid or voided; paid and void are final.
_RANK = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}


def upsert_many(
    session: Session, items: Sequence[tuple[Invoice, str | None, str | None]]
) -> None:
    """`upsert` for (invoice, account id, customer name) triples, reading existing rows once."""
    if not items:
        return
    ids = [invoice.billing_id for invoice, _, _ in items]
    existing = {r.billing_id: r for r in session.scalars(
        select(BillingInvoice).where(BillingInvoice.billing_id.in_(ids)))}
    for invoice, account_id, customer_name in items:
        row = existing.get(invoice.billing_id)
        if row is None:
            row = existing[invoice.billing_id] = BillingInvoice(
                billing_id=invoice.billing_id, billing_customer_id="")
            session.add(row)
        _apply(row, invoice, account_id=account_id, customer_name=customer_name)
    session.flush()


def upsert(
    session: Session,
    invoice: Invoice,
    *,
    account_id: str | None = None,
    customer_name: str | None = None,
) -> BillingInvoice:
    row = session.get(BillingInvoice, invoice.billing_id)
    if row is None:
        row = BillingInvoice(billing_id=invoice.billing_id, billing_customer_id="")
        session.add(row)
    _apply(row, invoice, account_id=account_id, customer_name=customer_name)
    session.flush()
    return row


def _apply(
    row: BillingInvoice, invoice: Invoice, *, account_id: str | None, customer_name: str | None
) -> None:
    row.number = invoice.number or row.number
    row.billing_customer_id = invoice.billing_customer_id
    row.subscription_id = invoice.subscription_id or row.subscription_id
    row.opportunity_id = invoice.opportunity_id or row.opportunity_id
    row.contract_version = invoice.contract_version or row.contract_version
    row.account_id = account_id or row.account_id
    if customer_name:
        row.customer_name = customer_name
        row.customer_name_key = customer_name.lower()
    row.currency = invoice.currency
    row.total_minor = invoice.total_minor
    row.amount_paid_minor = invoice.amount_paid_minor
    row.amount_remaining_minor = invoice.amount_remaining_minor
    row.amount_overpaid_minor = invoice.amount_overpaid_minor
    row.credit_applied_minor = invoice.credit_applied_minor
    row.status = invoice.status.value
    row.issued_on = invoice.issued_on or row.issued_on
    row.due_on = invoice.due_on or row.due_on
    row.paid_at = invoice.paid_at or row.paid_at
    row.closed_at = invoice.closed_at or row.closed_at
    if invoice.lines:
        row.lines = [line.model_dump(mode="json") for line in invoice.lines]


def is_stale(row: BillingInvoice | None, snapshot: Invoice) -> bool:
    """True when an event's snapshot is older than, or the same as, what the mirror holds.

    Stripe delivers events late, twice and out of order; an invoice only moves forward
    (draft → open → uncollectible → paid or void, amount paid up, amount remaining down).
    """
    if row is None:
        return False
    rank_row, rank_snap = _RANK.get(row.status, 0), _RANK.get(snapshot.status.value, 0)
    if rank_snap != rank_row:
        return rank_snap < rank_row
    return (
        snapshot.amount_paid_minor <= row.amount_paid_minor
        and snapshot.amount_remaining_minor >= row.amount_remaining_minor
    )
