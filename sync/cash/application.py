"""Cash application: the payment an ERP invoice still lacks, given what the billing system says
was paid on it."""

from __future__ import annotations

from datetime import datetime

from sync.model import Invoice, Payment


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
