"""Standalone selling prices as closebot keeps them (`closebot ssp set / list`), handed to
`sync.revenue.allocation` when a deal is accepted.

A deal held because a product had no SSP is accepted again from its stored intake once a price is
set: Salesforce didn't change, so the next poll would never bring it back by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.tables import Deal, StandaloneSellingPrice, SyncException
from storage.timeutil import aware
from sync.revenue.allocation import Ssp

# The field a missing SSP is reported against: the Salesforce product field, when there is one.
SSP_FIELD = "SSP__c"


def book(session: Session, currency: str) -> dict[str, Ssp]:
    """Every product's SSP in `currency`."""
    rows = session.scalars(
        select(StandaloneSellingPrice).where(StandaloneSellingPrice.currency == currency)
    )
    return {r.product: Ssp(int(r.low_minor), int(r.high_minor), r.currency) for r in rows}


def listing(session: Session) -> list[StandaloneSellingPrice]:
    return list(session.scalars(
        select(StandaloneSellingPrice).order_by(StandaloneSellingPrice.product,
                                                StandaloneSellingPrice.currency)
    ))


def set_price(session: Session, *, product: str, ssp: Ssp, by: str | None) -> None:
    """Set or replace a product's SSP in one currency. Contracts already accepted keep the
    allocation they had at inception; only deals accepted from now on use the new price."""
    row = session.get(StandaloneSellingPrice, (product, ssp.currency))
    if row is None:
        row = StandaloneSellingPrice(product=product, currency=ssp.currency)
        session.add(row)
    row.low_minor, row.high_minor, row.updated_by = ssp.low_minor, ssp.high_minor, by
    row.updated_at = datetime.now(UTC)
    session.flush()


def held_for_ssp(session: Session) -> Iterator[Deal]:
    """Deals held for a missing SSP since which some SSP was set: worth accepting again."""
    newest = session.scalar(select(func.max(StandaloneSellingPrice.updated_at)))
    if newest is None:
        return
    rows = session.scalars(
        select(SyncException).where(SyncException.status == "open",
                                    SyncException.kind == "validation")
    )
    for exc in list(rows):
        if (SSP_FIELD in (exc.fields or []) and exc.opportunity_id
                and aware(exc.updated_at) < aware(newest)):
            deal = session.get(Deal, exc.opportunity_id)
            if deal is not None:
                yield deal
