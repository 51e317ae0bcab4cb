"""Alembic environment: the engine comes from `storage.migrate`, never from an ini file."""

from __future__ import annotations

from alembic import context

import storage.bank_tables
import storage.fx_tables
import storage.ledger
import storage.ops_tables
import storage.slack_tables
import storage.tables  # noqa: F401
from storage.db import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
