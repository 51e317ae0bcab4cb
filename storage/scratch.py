"""A throwaway database, and a copy of some deals' rows into it.

The dry run runs the engine against a scratch copy so that its bookkeeping (deals, contract
versions, work items, links, exceptions) starts from what closebot already knows and still
leaves closebot's own database untouched: the source is only ever read, in a transaction that
is rolled back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, false, insert, inspect, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.tables import (
    Approval,
    BillingInvoice,
    ContractVersion,
    Deal,
    IdLink,
    SyncException,
    WorkItem,
)

CHUNK = 500


@contextmanager
def scratch_database() -> Iterator[sessionmaker[Session]]:
    """A fresh SQLite database at the current schema, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="closebot-scratch-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            upgrade(engine)
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def has_schema(sessions: sessionmaker[Session]) -> bool:
    """Whether closebot's tables exist there (a database never started has none)."""
    with sessions() as session:
        return inspect(session.connection()).has_table(Deal.__tablename__)


def copy_deals(source: sessionmaker[Session], target: sessionmaker[Session],
               opportunity_ids: Sequence[str], scopes: Sequence[str] = ()) -> int:
    """Copy what closebot holds about these deals (and the links of these scopes, e.g. their
    accounts'), parents before children; returns the number of rows copied."""
    copied = 0
    for start in range(0, max(len(opportunity_ids), len(scopes)), CHUNK):
        opps = list(opportunity_ids[start:start + CHUNK])
        extra = list(scopes[start:start + CHUNK])
        link_filter = or_(IdLink.opportunity_id.in_(opps) if opps else false(),
                          IdLink.scope.in_(extra) if extra else false())
        plan: list[tuple[Table, ColumnElement[bool]]] = [
            (_table(Deal), Deal.opportunity_id.in_(opps)),
            (_table(ContractVersion), ContractVersion.opportunity_id.in_(opps)),
            (_table(WorkItem), WorkItem.opportunity_id.in_(opps)),
            (_table(SyncException), SyncException.opportunity_id.in_(opps)),
            (_table(Approval), Approval.opportunity_id.in_(opps)),
            (_table(BillingInvoice), BillingInvoice.opportunity_id.in_(opps)),
            (_table(IdLink), link_filter),
        ]
        with source() as reading, transaction(target) as writing:
            for table, where in plan:
                rows = [dict(r) for r in reading.execute(select(table).where(where)).mappings()]
                existing = _keys(writing, table, rows)
                fresh = [r for r in rows if _key(table, r) not in existing]
                if fresh:
                    writing.execute(insert(table), fresh)
                    copied += len(fresh)
            reading.rollback()
    return copied


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)


def _keys(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Rows already copied by an earlier chunk (a link can belong to two chunks' filters)."""
    if not rows:
        return set()
    (column,) = table.primary_key.columns
    wanted = [row[column.name] for row in rows]
    return {(v,) for v in session.scalars(select(column).where(column.in_(wanted)))}
