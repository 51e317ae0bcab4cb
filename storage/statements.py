"""Statements built once per dialect and reused.

Building a SQLAlchemy statement and its cache key costs more CPU than running it on SQLite;
the queue and link statements run several times per deal, so they are built once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def dialect_of(session: Session) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's INSERT that supports ON CONFLICT."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


def prebuilt(build: Callable[[str], Executable]) -> Callable[[Session], Executable]:
    """`build(dialect)` once per dialect; the result is looked up by session."""
    cached = cache(build)

    def for_session(session: Session) -> Executable:
        return cached(dialect_of(session))

    return for_session
