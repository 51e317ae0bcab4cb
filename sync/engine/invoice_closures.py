"""A voided or written-off billing invoice, as the ERP is told about it (see
docs/architecture.md, "Voids, write-offs and tax", for the entries each ERP makes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sync.contracts.billed_lines import attribute
from sync.model import (
    ClosureKind,
    ClosureLine,
    Contract,
    CreditNote,
    Invoice,
    InvoiceClosure,
    InvoiceStatus,
)
from sync.revenue.earned import earned_by

CLOSED = {InvoiceStatus.VOID: ClosureKind.VOID,
          InvoiceStatus.UNCOLLECTIBLE: ClosureKind.UNCOLLECTIBLE}


def closure_of(invoice: Invoice, contracts: Sequence[Contract], *, today: date
               ) -> InvoiceClosure | None:
    """The closure to book for `invoice` (its lines already matched to obligations), or None
    while it is open or paid. Each line carries what its revenue plan had earned by the day the
    invoice closed, for ERPs that keep their own schedules."""
    kind = CLOSED.get(invoice.status)
    if kind is None:
        return None
    closed_on = invoice.closed_at.date() if invoice.closed_at else today
    return InvoiceClosure(
        invoice_billing_id=invoice.billing_id,
        kind=kind,
        currency=invoice.currency,
        closed_on=closed_on,
        tax_minor=invoice.tax_minor,
        lines=earned_lines(invoice, contracts, on=closed_on),
    )


def earned_lines(invoice: Invoice, contracts: Sequence[Contract], *, on: date
                 ) -> tuple[ClosureLine, ...]:
    """Each revenue line of `invoice` (matched to obligations) and what its revenue plan had
    earned by `on`."""
    obligations = {o.line_id: o for c in sorted(contracts, key=lambda c: c.version)
                   for o in c.obligations}
    return tuple(
        ClosureLine(
            description=line.description, recurring=line.recurring,
            amount_minor=line.amount_minor,
            earned_minor=earned_by(line, obligations.get(line.obligation_id or ""), on=on),
        )
        for line in invoice.lines if line.amount_minor
    )


def with_earned(note: CreditNote, invoice: Invoice, contracts: Sequence[Contract]
                ) -> CreditNote:
    """The credit note with what its invoice billed and had earned on the note's date, for
    ERPs that keep their own schedules to split it between deferred and contra revenue."""
    attributed, _ = attribute(invoice, contracts)
    return note.model_copy(update={
        "lines": earned_lines(attributed, contracts, on=note.created_at.date())})
