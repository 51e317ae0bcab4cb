"""Which Stripe and ERP records a person's decision led to, read from closebot's ID links.

An approved deal led to its contract version's records (customer, subscription, invoices, sales
order); an approved credit to its credit note and credit memo; a retried bill step to the whole
chain after it, a retried post step to the ERP's records. A rejection or a dismissal led to
nothing, and a write-back writes only to Salesforce.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import links
from storage.tables import Approval, BillingInvoice, Deal, IdLink, WorkItem

Records = tuple[list[str], list[str]]  # (Stripe records, ERP records), each "kind id"
_KIND_WORDS = {"sales_order": "sales order", "credit_note": "credit note",
               "credit_memo": "credit memo"}


def _label(link: IdLink) -> str:
    return f"{_KIND_WORDS.get(link.kind, link.kind)} {link.external_id}"


def _scoped(session: Session, scopes: list[str]) -> list[IdLink]:
    return list(session.scalars(
        select(IdLink).where(IdLink.scope.in_(scopes)).order_by(IdLink.id)))


def _split(found: list[IdLink], erp: str) -> Records:
    stripe = [_label(ln) for ln in found if ln.system == "stripe"]
    books = [_label(ln) for ln in found if ln.system == erp]
    return stripe, books


def contract_records(session: Session, opportunity_id: str, version: int, erp: str) -> Records:
    """The customer, subscription, sales order and invoices of one contract version."""
    scopes = [links.contract_scope(opportunity_id, version)]
    deal = session.get(Deal, opportunity_id)
    if deal is not None and deal.account_id:
        scopes.insert(0, links.account_scope(deal.account_id))
    stripe, books = _split(_scoped(session, scopes), erp)
    for invoice in session.scalars(
        select(BillingInvoice)
        .where(BillingInvoice.opportunity_id == opportunity_id,
               BillingInvoice.contract_version == version)
        .order_by(BillingInvoice.issued_on, BillingInvoice.billing_id)
    ):
        number = f" ({invoice.number})" if invoice.number else ""
        stripe.append(f"invoice {invoice.billing_id}{number}")
        if invoice.erp_invoice_id:
            books.append(f"invoice {invoice.erp_invoice_id}")
    return stripe, books


def approval_records(session: Session, ap: Approval, erp: str) -> Records:
    if ap.status != "approved":
        return [], []
    if ap.kind == "credit":
        return _split(_scoped(session, [f"credit:{ap.id}"]), erp)
    if not ap.opportunity_id:
        return [], []
    return contract_records(session, ap.opportunity_id, ap.contract_version, erp)


def step_records(session: Session, item: WorkItem, erp: str) -> Records:
    if item.step == "writeback":
        return [], []
    stripe, books = contract_records(session, item.opportunity_id, item.contract_version, erp)
    return (stripe if item.step == "bill" else []), books
