"""Integration fixtures: the real clients over HTTP to the local emulators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack() as running:
        yield running


@pytest.fixture
def seeder(stack: SandboxStack) -> BookSeeder:
    return BookSeeder(stack.salesforce)


def make_settings(stack: SandboxStack, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "max_attempts": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        **stack.settings_overrides(),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(stack: SandboxStack, db_url: str) -> Settings:
    return make_settings(stack, db_url)


@pytest.fixture
def runtime(settings: Settings, sessions: sessionmaker[Session]) -> Runtime:
    return build_runtime(settings, sessions)
