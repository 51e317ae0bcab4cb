"""What every step shares: the claimed item, the batch record's outcome, and the reads and
status changes both the bill and the post step make.

Each step reads what a claimed batch needs in one transaction, calls one system per item outside
any transaction (`*_effect`), then records the batch's results together in one transaction. A
retry after a crash at any line creates nothing twice: links are checked first, and creates carry
idempotency keys or external IDs derived from (opportunity, contract version, step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage import links, queue
from storage.tables import ContractVersion, Deal, IdLink, SyncException
from sync.engine.exceptions import RECONCILIATION
from sync.engine.runtime import Runtime
from sync.model import Contract


@dataclass(frozen=True)
class StepInput:
    item_id: int
    opportunity_id: str
    version: int
    attempts: int
    lookup: bool  # an earlier attempt may have created something: look before creating
    subject: str = ""  # for a step about one record (`credit:<approval>`), that record


def load_contract(session: Session, opportunity_id: str, version: int) -> Contract:
    body = session.execute(_CONTRACT_BODY, {"opp": opportunity_id, "v": version}).scalar()
    if body is None:
        raise LookupError(f"no contract {opportunity_id} v{version}")
    return Contract.model_validate(body)


def contracts_of(session: Session, batch: list[StepInput]) -> dict[tuple[str, int], Contract]:
    wanted = {(s.opportunity_id, s.version) for s in batch}
    rows = session.execute(
        select(ContractVersion.opportunity_id, ContractVersion.version, ContractVersion.body)
        .where(ContractVersion.opportunity_id.in_({opp for opp, _ in wanted}))
    )
    return {(opp, v): Contract.model_validate(body) for opp, v, body in rows
            if (opp, v) in wanted}


def found_links(session: Session, scopes: list[str], system: str) -> dict[tuple[str, str], str]:
    if not scopes:
        return {}
    return {
        (scope, kind): external_id
        for scope, kind, external_id in session.execute(
            select(IdLink.scope, IdLink.kind, IdLink.external_id).where(
                IdLink.scope.in_(set(scopes)), IdLink.system == system)
        )
    }

@dataclass
class Recorded:
    """What a batch record did per item: done or lease_lost; and the items that would have
    linked a second record to one scope (a duplicate), which were not recorded."""

    outcomes: dict[int, str]
    duplicates: list[StepInput]


def split_duplicates(
    items: list[Any], conflicts: set[tuple[str, ...]], keys: Callable[[Any], list[tuple[str, ...]]]
) -> tuple[list[Any], list[StepInput]]:
    clean = [i for i in items if not any(k in conflicts for k in keys(i))]
    duplicates = [i.step for i in items if any(k in conflicts for k in keys(i))]
    return clean, duplicates


def finish_all(
    session: Session, rt: Runtime, items: list[Any]
) -> tuple[list[Any], dict[int, str]]:
    finished = queue.finish_many(session, [i.step.item_id for i in items], rt.worker_id)
    outcomes = {i.step.item_id: "done" if i.step.item_id in finished else "lease_lost"
                for i in items}
    return [i for i in items if i.step.item_id in finished], outcomes


def with_open_exceptions(session: Session, items: list[StepInput]) -> list[tuple[str, int]]:
    opps = {i.opportunity_id for i in items}
    if not opps:
        return []
    with_open = set(session.scalars(
        select(SyncException.opportunity_id).where(
            SyncException.opportunity_id.in_(opps), SyncException.status == "open",
            SyncException.kind != RECONCILIATION)
    ))
    return [(i.opportunity_id, i.version) for i in items if i.opportunity_id in with_open]


def contract_row(session: Session, opportunity_id: str, version: int) -> ContractVersion:
    row = session.scalar(
        select(ContractVersion).where(
            ContractVersion.opportunity_id == opportunity_id, ContractVersion.version == version
        )
    )
    if row is None:
        raise LookupError(f"no contract {opportunity_id} v{version}")
    return row


def billed_predecessor(
    session: Session, opportunity_id: str, version: int
) -> tuple[Contract, str] | None:
    """The latest earlier version that has a subscription, which this version amends."""
    for earlier in range(version - 1, 0, -1):
        subscription = links.find(
            session, links.contract_scope(opportunity_id, earlier), "stripe", "subscription"
        )
        if subscription:
            return load_contract(session, opportunity_id, earlier), subscription
    return None


_OPEN_KINDS = select(SyncException.kind).where(
    SyncException.opportunity_id == bindparam("opp"), SyncException.status == "open",
    SyncException.kind != RECONCILIATION,
)
_CONTRACT_BODY = select(ContractVersion.body).where(
    ContractVersion.opportunity_id == bindparam("opp"), ContractVersion.version == bindparam("v")
)


def _open_kinds(session: Session, opportunity_id: str) -> list[str]:
    return list(session.scalars(_OPEN_KINDS, {"opp": opportunity_id}))


def clear_failed(session: Session, opportunity_id: str, version: int) -> None:
    deal = session.get(Deal, opportunity_id)
    if (
        deal is not None
        and deal.current_version == version
        and deal.status == "exception"
        and not _open_kinds(session, opportunity_id)
    ):
        deal.status, deal.message = "pending", None
