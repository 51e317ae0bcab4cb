"""Scheduled jobs fire once per interval across replicas; a dead replica's lease expires."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from sync.engine import leader

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_one_replica_wins_each_slot(sessions: sessionmaker[Session]) -> None:
    ttl = timedelta(seconds=30)
    won = [leader.claim(sessions, "intake", owner=f"r{i}", interval_s=60, ttl=ttl, now=T0)
           for i in range(3)]
    assert won == [True, False, False]
    leader.release(sessions, "intake", owner="r0")
    # Released, but the slot already ran: nobody runs it again in the same minute.
    assert not leader.claim(sessions, "intake", owner="r1", interval_s=60, ttl=ttl,
                            now=T0 + timedelta(seconds=30))
    assert leader.claim(sessions, "intake", owner="r1", interval_s=60, ttl=ttl,
                        now=T0 + timedelta(seconds=60))


def test_a_dead_holders_lease_expires(sessions: sessionmaker[Session]) -> None:
    ttl = timedelta(seconds=90)
    assert leader.claim(sessions, "digest", owner="dead", interval_s=60, ttl=ttl, now=T0)
    # Next slot, but the holder (killed mid-run) still holds an unexpired lease.
    assert not leader.claim(sessions, "digest", owner="r2", interval_s=60, ttl=ttl,
                            now=T0 + timedelta(seconds=61))
    assert leader.claim(sessions, "digest", owner="r2", interval_s=60, ttl=ttl,
                        now=T0 + timedelta(seconds=120))


def test_concurrent_replicas_run_a_job_once(sessions: sessionmaker[Session]) -> None:
    runs: list[str] = []
    barrier = threading.Barrier(4)

    def replica(name: str) -> None:
        barrier.wait()
        leader.run_once_cluster_wide(sessions, "reconcile", lambda: runs.append(name),
                                     owner=name, interval_s=3600, ttl=timedelta(seconds=60))

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1
