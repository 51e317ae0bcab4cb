"""Three worker replicas on one PostgreSQL database, under faults and kills: the queue hands
each item to one worker, killed workers' leases are taken over, scheduled jobs fire once."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.chaos import run
from tests.conftest import postgres_database

POSTGRES_URL = os.environ.get("CLOSEBOT_TEST_POSTGRES_URL")
pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not POSTGRES_URL, reason="CLOSEBOT_TEST_POSTGRES_URL not set")]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database("closebot_replicas") as url:
        yield url


def test_three_replicas_share_the_work_without_duplicates(pg_url: str) -> None:
    result = run(100, fault_rate=0.1, kills=5, seed=21, replicas=3, database_url=pg_url,
                 settle_s=180)
    assert (result["duplicates"], result["lost"], result["unbalanced"]) == (0, 0, 0), result
    assert result["audit_ok"], result["problems"]
    assert result["leased_after_sigterm"] == 0

    # Intake is a cluster-wide job every 2 s. Three replicas each running their own would start
    # it about three times per slot; once cluster-wide it starts at most once per slot.
    assert 0 < result["intake_runs_by_workers"] <= result["worker_phase_s"] / 2 + 1
