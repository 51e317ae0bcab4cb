"""Bring a database to the current schema."""

from __future__ import annotations

from sqlalchemy import Engine

from storage.migrate import upgrade


def create_schema(engine: Engine) -> None:
    upgrade(engine)
