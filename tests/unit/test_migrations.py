"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import storage.bank_tables
import storage.fx_tables
import storage.ledger
import storage.ops_tables
import storage.slack_tables
import storage.tables  # noqa: F401
from storage.db import Base
from storage.migrate import current, upgrade


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # PostgreSQL-only expression indexes (e.g. COLLATE "C" for prefix search) are not modelled.
    diff = [d for d in diff if not (d[0] == "remove_index" and str(d[1].name).endswith("_c"))]
    assert diff == []


def test_upgrade_is_repeatable(engine: Engine) -> None:
    head = current(engine)
    upgrade(engine)
    assert current(engine) == head is not None
