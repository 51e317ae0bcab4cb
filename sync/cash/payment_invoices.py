"""The invoice each Stripe payment paid, as closebot learnt it from Stripe's
`invoice_payment.paid` events (table `payment_invoices`).

Since API version 2025-03-31 neither a charge, its payment intent nor a refund names the
invoice; a refund's credit memo and a dispute need it. Remembering it when the payment is made
lets the cash run tie them up locally; only a payment closebot never saw paid (before go-live,
an event lost for good) costs a call to Stripe (`sync/connectors/stripe_cash.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ops_tables import PaymentInvoice

IN_LIST = 500  # payment ids per `IN (…)`


def remember(session: Session, pairs: Iterable[tuple[str, str]]) -> int:
    """Keep (payment, invoice) pairs not kept yet; returns how many were new. A replayed or
    duplicate event adds nothing (a payment pays one invoice: the first pair stands)."""
    wanted = dict(pairs)
    ids = list(wanted)
    for start in range(0, len(ids), IN_LIST):
        chunk = ids[start:start + IN_LIST]
        for known in session.scalars(select(PaymentInvoice.payment_id)
                                     .where(PaymentInvoice.payment_id.in_(chunk))):
            wanted.pop(known, None)
    session.add_all(PaymentInvoice(payment_id=p, invoice_id=i) for p, i in wanted.items())
    return len(wanted)


def remember_now(sessions: sessionmaker[Session], pairs: Iterable[tuple[str, str]]) -> int:
    """`remember` in a transaction of its own; a concurrent delivery of the same event that
    kept the pair first is not an error."""
    try:
        with transaction(sessions) as session:
            return remember(session, pairs)
    except IntegrityError:
        return 0


class KnownPayments:
    """`payment intent → invoice` from what closebot remembered, None for one it never saw."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, payment_id: str) -> str | None:
        with self._sessions() as session:
            row = session.get(PaymentInvoice, payment_id)
            return row.invoice_id if row is not None else None
