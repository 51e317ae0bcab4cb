"""Cash application: what an ERP invoice still lacks, given what the billing system says was
paid on it — the payment itself, an overpayment beyond it (unapplied cash, the customer's
credit) and the customer's credit used to settle it."""

from __future__ import annotations

from datetime import datetime

from sync.model import Invoice, Payment
from sync.ports_cash import CreditApplication, Overpayment


def payment_to_post(invoice: Invoice, *, paid_in_erp: int, now: datetime) -> Payment | None:
    """The part of `invoice.amount_paid_minor` the ERP hasn't recorded yet, or None.

    The payment is keyed by the cumulative amount paid, so replaying the same state posts
    nothing new, and a later partial payment posts only the difference.
    """
    if invoice.amount_paid_minor <= paid_in_erp:
        return None
    return Payment(
        billing_id=f"{invoice.billing_id}:paid@{invoice.amount_paid_minor}",
        invoice_billing_id=invoice.billing_id,
        amount_minor=invoice.amount_paid_minor - paid_in_erp,
        currency=invoice.currency,
        paid_at=invoice.paid_at or now,
    )


def overpayment_of(invoice: Invoice, *, now: datetime) -> Overpayment | None:
    """What was paid beyond the invoice, keyed by the invoice: Stripe overpays an invoice once,
    when the payment that settles it is larger than what was left."""
    if invoice.amount_overpaid_minor <= 0:
        return None
    return Overpayment(
        key=f"{invoice.billing_id}:overpaid", invoice_id=invoice.billing_id,
        amount_minor=invoice.amount_overpaid_minor, currency=invoice.currency,
        paid_on=(invoice.paid_at or now).date(),
    )


def credit_application_of(invoice: Invoice, *, now: datetime) -> CreditApplication | None:
    """The customer's credit that settled part of the invoice when it was finalized, keyed by
    the invoice (finalizing happens once)."""
    if invoice.credit_applied_minor <= 0:
        return None
    return CreditApplication(
        key=f"{invoice.billing_id}:credit", invoice_id=invoice.billing_id,
        amount_minor=invoice.credit_applied_minor, currency=invoice.currency,
        applied_on=invoice.issued_on or now.date(),
    )
