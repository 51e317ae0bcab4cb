"""Which Stripe account holds a deal's records: its legal entity's, read from its contract."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import ContractVersion


def entities_of(session: Session,
                opportunity_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The entity of each deal that has one (of these deals; None: of all), as its latest
    contract version records it."""
    query = select(ContractVersion.opportunity_id, ContractVersion.body).order_by(
        ContractVersion.opportunity_id, ContractVersion.version)
    if opportunity_ids is not None:
        wanted = {o for o in opportunity_ids if o}
        if not wanted:
            return {}
        query = query.where(ContractVersion.opportunity_id.in_(wanted))
    found: dict[str, str] = {}
    for opp, body in session.execute(query):
        entity = (body or {}).get("entity")
        if entity:
            found[opp] = entity
        else:
            found.pop(opp, None)
    return found
