"""Standalone selling prices as closebot keeps them (`closebot ssp set / list`) and as the
Salesforce product carries them (`SSP__c`, `SSP_High__c`), handed to `sync.revenue.allocation`
when a deal is accepted. closebot's own price for a product and currency wins over the product
field: it is the override finance sets without a Salesforce admin.

A deal held because a product had no SSP is accepted again from its stored intake once a price is
set: Salesforce didn't change, so the next poll would never bring it back by itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.tables import Deal, StandaloneSellingPrice, SyncException
from storage.timeutil import aware
from sync.contracts.normalize import InvalidDeal
from sync.contracts.terms import parse_decimal
from sync.contracts.validation import Problem
from sync.money import format_money, round_to_minor
from sync.revenue.allocation import Ssp

# The field a missing SSP is reported against: the Salesforce product field, when there is one.
SSP_FIELD = "SSP__c"
SSP_HIGH_FIELD = "SSP_High__c"


def book(session: Session, currency: str) -> dict[str, Ssp]:
    """Every product's SSP in `currency`."""
    rows = session.scalars(
        select(StandaloneSellingPrice).where(StandaloneSellingPrice.currency == currency)
    )
    return {r.product: Ssp(int(r.low_minor), int(r.high_minor), r.currency) for r in rows}


def prices(session: Session, lines: Sequence[dict[str, Any]], currency: str) -> dict[str, Ssp]:
    """The SSPs a deal is allocated with: its products' Salesforce fields, then closebot's
    table over them. Raises InvalidDeal for a range that holds no price (high below low)."""
    return {**from_lines(lines, currency), **book(session, currency)}


def from_lines(lines: Sequence[dict[str, Any]], currency: str) -> dict[str, Ssp]:
    """Each product's SSP from its Salesforce fields, read in the deal's currency (the
    product's price as the org's deals are sold in it)."""
    found: dict[str, Ssp] = {}
    problems: list[Problem] = []
    for line in lines:
        low = parse_decimal(line.get(f"Product2.{SSP_FIELD}"))
        if low is None:
            continue
        high = parse_decimal(line.get(f"Product2.{SSP_HIGH_FIELD}"))
        name = str(line.get("Product2.Name") or line.get("Name") or "Product")
        if low < 0 or (high is not None and high < low):
            problems.append(Problem(SSP_HIGH_FIELD if high is not None and low >= 0 else SSP_FIELD,
                                    _bad_range(name, low, high, currency)))
            continue
        found[name] = Ssp(round_to_minor(low, currency),
                          round_to_minor(high if high is not None else low, currency), currency)
    if problems:
        raise InvalidDeal(problems)
    return found


def _bad_range(name: str, low: Decimal, high: Decimal | None, currency: str) -> str:
    def money(d: Decimal) -> str:
        return format_money(round_to_minor(d, currency), currency)

    if low < 0:
        return f"{name}: the Standalone Selling Price {money(low)} is below zero"
    assert high is not None
    return (f"{name}: the SSP High {money(high)} is below the Standalone Selling Price "
            f"{money(low)}, so the range holds no price; fix the product in Salesforce")


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


def held_ids(session: Session, limit: int = 200) -> list[str]:
    """Deals held for a missing or impossible SSP: read again from the CRM on each intake, since
    a product's SSP set in Salesforce doesn't change the deal, so the deal's poll misses it."""
    rows = session.scalars(
        select(SyncException).where(SyncException.status == "open",
                                    SyncException.kind == "validation",
                                    SyncException.opportunity_id.is_not(None))
        .order_by(SyncException.id)
    )
    found = {exc.opportunity_id for exc in rows
             if {SSP_FIELD, SSP_HIGH_FIELD} & set(exc.fields or []) and exc.opportunity_id}
    return sorted(found)[:limit]


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
