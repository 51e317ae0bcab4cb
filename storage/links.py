"""Cross-system ID links: the chain of custody from opportunity to ledger."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from storage.statements import prebuilt, upsert_insert
from storage.tables import IdLink
from storage.timeutil import utcnow


def account_scope(account_id: str) -> str:
    return f"account:{account_id}"


def contract_scope(opportunity_id: str, version: int) -> str:
    return f"contract:{opportunity_id}:v{version}"


def invoice_scope(invoice_id: str) -> str:
    return f"invoice:{invoice_id}"


@prebuilt
def _find(dialect: str) -> Executable:
    return select(IdLink.external_id).where(
        IdLink.scope == bindparam("scope"),
        IdLink.system == bindparam("system"),
        IdLink.kind == bindparam("kind"),
    )


@prebuilt
def _insert(dialect: str) -> Executable:
    return (
        upsert_insert(dialect)(IdLink)
        .on_conflict_do_nothing(index_elements=["scope", "system", "kind"])
        .returning(IdLink.id)
    )


def find(session: Session, scope: str, system: str, kind: str) -> str | None:
    return session.execute(
        _find(session), {"scope": scope, "system": system, "kind": kind}
    ).scalar()


def record(
    session: Session,
    *,
    scope: str,
    system: str,
    kind: str,
    external_id: str,
    opportunity_id: str | None = None,
) -> None:
    """Store a link once; a second, different ID for the same scope is a duplicate and refused."""
    created = session.execute(
        _insert(session),
        {"scope": scope, "system": system, "kind": kind, "external_id": external_id,
         "opportunity_id": opportunity_id, "created_at": utcnow()},
    ).scalar()
    if created is not None:
        return
    existing = find(session, scope, system, kind)
    if existing != external_id:
        raise ValueError(
            f"{scope} already links to {system} {kind} {existing}, not {external_id}"
        )


def record_many(session: Session, rows: Sequence[dict[str, str | None]]) -> set[tuple[str, ...]]:
    """`record` for a batch of {scope, system, kind, external_id, opportunity_id}.

    Returns the (scope, system, kind) keys that already link to a *different* record; those rows
    are not written, and the caller treats each as the duplicate it would be.
    """
    if not rows:
        return set()
    scopes = sorted({str(r["scope"]) for r in rows})
    existing = {
        (scope, system, kind): external_id
        for scope, system, kind, external_id in session.execute(
            select(IdLink.scope, IdLink.system, IdLink.kind, IdLink.external_id).where(
                IdLink.scope.in_(scopes)
            )
        )
    }
    conflicts = set()
    fresh = []
    seen: dict[tuple[str, ...], str | None] = {}
    for row in rows:
        key = (str(row["scope"]), str(row["system"]), str(row["kind"]))
        current = existing.get(key, seen.get(key))
        if current is not None and current != row["external_id"]:
            conflicts.add(key)
        elif current is None:
            seen[key] = row["external_id"]
            fresh.append({**row, "created_at": utcnow()})
    if fresh:
        session.execute(_insert(session), fresh)
    return conflicts


def for_opportunity(session: Session, opportunity_id: str) -> list[IdLink]:
    return list(
        session.scalars(
            select(IdLink).where(IdLink.opportunity_id == opportunity_id).order_by(IdLink.id)
        )
    )
