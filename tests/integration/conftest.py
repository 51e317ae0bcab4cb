"""Integration fixtures: the real clients over HTTP to the local emulators."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime, open_database
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


def sync_and_die_after(settings: Settings, system: str, method: str) -> None:
    """One sync pass in a child process that SIGKILLs itself as soon as `rt.<system>.<method>`
    returns: between an external effect and its commit. Returns once the child's leases have
    expired, so a restarted worker takes its items over."""
    values = settings.model_dump()
    values.update({k: v.get_secret_value() for k, v in values.items()
                   if hasattr(v, "get_secret_value")})
    child = multiprocessing.get_context("spawn").Process(
        target=_sync_then_die, args=(values, system, method))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL, "the worker should have been killed mid-step"
    time.sleep(settings.lease_s + 0.2)


def _sync_then_die(settings_values: dict[str, Any], system: str, method: str) -> None:
    settings = Settings(**settings_values)
    _, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    connector = getattr(rt, system)
    original = getattr(connector, method)

    def call_then_die(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(connector, method, call_then_die)
    sync_once(rt)
