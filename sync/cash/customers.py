"""Which billing customers closebot bills: those it created or linked at go-live (`id_links`).

A charge from such a customer paid an invoice whose payment the ERP already has (the post step
applies it), so its gross needs no entry of its own; a charge from any other customer was taken
outside closebot (before go-live, or by hand in Stripe) and is a cash exception.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import BillingInvoice, IdLink

CACHE = 100_000


class BilledCustomers:
    """A `Customers` predicate over `id_links`, remembering the answers (links are permanent;
    an unknown customer is asked again, since go-live may link it later)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._known: set[str] = set()

    def __call__(self, customer_id: str) -> bool:
        if customer_id in self._known:
            return True
        with self._sessions() as session:
            found = session.scalar(select(IdLink.id).where(
                IdLink.system == "stripe", IdLink.kind == "customer",
                IdLink.external_id == customer_id).limit(1))
        if found is not None:
            if len(self._known) >= CACHE:
                self._known.clear()
            self._known.add(customer_id)
        return found is not None


class PaidInErp:
    """Whether an invoice's payment is in the ERP, as the post step recorded it: false while a
    payment Stripe took still waits for the deal's post step (faults, a restart). An invoice
    closebot doesn't mirror is not held back."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, invoice_id: str) -> bool:
        with self._sessions() as session:
            row = session.get(BillingInvoice, invoice_id)
            return row is None or row.erp_paid_minor > 0
