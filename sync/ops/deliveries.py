""""Mark delivered" and its undo from Slack: who may (`DELIVERY_MARKERS`, Slack user IDs or
emails), and the books' answer in words. The books (the embedded ledger, or with NetSuite or
Sage Intacct closebot's revenue subledger, its tables, through the `Deliveries` port) move the
obligation's schedule row and audit the mark; a refused click is audited here, since nothing
reaches the books."""

from __future__ import annotations

from datetime import date

from storage import audit
from storage.db import transaction
from sync.ops.surface import Deps, NotAllowed, UserError
from sync.ports_revenue import Delivered, Deliveries, DeliveryRefused

MAX_NAMED = 5


def markers(deps: Deps, configured: frozenset[str]) -> frozenset[str]:
    """The Slack user IDs of the people named in `DELIVERY_MARKERS` (an email is looked up)."""
    found = {deps.directory.user_for_email(m) if "@" in m else m for m in configured}
    return frozenset(u for u in found if u)


def mark(deps: Deps, books: Deliveries, *, opportunity_id: str, product: str, user: str,
         configured: frozenset[str], today: date, undo: bool = False) -> Delivered:
    """Deliver `product` of the deal today (or undo its delivery) for the Slack `user`."""
    allowed = markers(deps, configured)
    if user not in allowed:
        with transaction(deps.sessions) as session:
            audit.append(session, action="revenue.delivery_refused", actor=user,
                         opportunity_id=opportunity_id, product=product, undo=undo)
        if not allowed:
            raise NotAllowed("Nobody may mark deliveries from Slack yet: set DELIVERY_MARKERS. "
                            "Nothing was changed.")
        raise NotAllowed(f"You may not mark deliveries, so {product} was not changed.",
                        people=tuple(sorted(allowed))[:MAX_NAMED])
    try:
        return books.mark_delivered(opportunity_id=opportunity_id, product=product,
                                    on=None if undo else today, by=user, today=today)
    except DeliveryRefused as refused:
        raise UserError(f"{refused}. Nothing was changed.") from None
