"""Vendor errors and outages: transient ones retry with backoff, permanent ones become an
exception a person can act on; nothing is lost and the scheduler's jobs never raise."""

from __future__ import annotations

import socket
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, SyncException, SyncRun, WorkItem
from tests.integration.conftest import make_settings


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_stripe_unreachable_retries_then_raises_an_exception(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    # Backoff long enough that one worker run can't reach the retry by itself: 0.25-0.5 s, then
    # 0.5-1 s.
    settings = make_settings(stack, db_url, stripe_api_base=f"http://127.0.0.1:{_dead_port()}",
                             stripe_timeout_s=2, backoff_base_s=0.5, backoff_max_s=1.0)
    rt = build_runtime(settings, sessions)

    run_job(rt, "intake")
    run_job(rt, "worker")
    with transaction(sessions) as session:
        item = session.scalar(select(WorkItem).where(WorkItem.step == "bill"))
        assert item is not None and (item.status, item.attempts) == ("pending", 1)
        assert "Stripe could not be reached" in (item.last_error or "")
        assert item.next_attempt_at is not None
    for _ in range(20):
        time.sleep(0.2)
        run_job(rt, "worker")
        with transaction(sessions) as session:
            if session.scalar(select(WorkItem.status).where(WorkItem.step == "bill")) != "pending":
                break

    with transaction(sessions) as session:
        item = session.scalar(select(WorkItem).where(WorkItem.step == "bill"))
        exc = session.scalar(select(SyncException).where(SyncException.kind == "bill"))
        deal = session.get(Deal, opp)
    assert item is not None and (item.status, item.attempts) == ("exception", 3)
    assert exc is not None and exc.status == "open" and exc.attempts == 3
    assert "could not be billed in Stripe: Stripe could not be reached" in exc.reason
    assert deal is not None and deal.status == "exception"
    assert stack.salesforce.get("Opportunity", opp)["Sync_Status__c"] == "Failed"

    # Stripe is back; a retry (as the Slack Retry button does) finishes the deal.
    healthy = build_runtime(make_settings(stack, db_url), sessions)
    with transaction(sessions) as session:
        from storage import queue
        queue.arm(session, opportunity_id=opp, version=1, step="bill")
    sync_once(healthy)
    with transaction(sessions) as session:
        assert session.get(Deal, opp).status == "synced"  # type: ignore[union-attr]
        assert session.scalar(select(SyncException.status).where(
            SyncException.kind == "bill")) == "resolved"


def test_stripe_rejection_is_permanent_and_explained(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    settings = make_settings(stack, db_url)
    settings = Settings(**{**settings.model_dump(), "stripe_api_key": "sk_test_revoked",
                           "salesforce_access_token": stack.salesforce.token})
    rt = build_runtime(settings, sessions)
    sync_once(rt)
    with transaction(sessions) as session:
        item = session.scalar(select(WorkItem).where(WorkItem.step == "bill"))
        exc = session.scalar(select(SyncException).where(SyncException.opportunity_id == opp))
    assert item is not None and (item.status, item.attempts) == ("exception", 1)
    assert exc is not None and "Stripe refused the API key" in exc.reason
    assert "sk_test_revoked" not in exc.reason + (exc.detail or "")


def test_a_database_outage_fails_the_run_not_the_scheduler(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    BookSeeder(stack.salesforce).seed(demo_deals()[0])
    rt = build_runtime(make_settings(stack, db_url), sessions)
    real = rt.sessions

    def unavailable() -> Session:
        raise ConnectionError("database is down")

    rt.sessions = unavailable  # type: ignore[assignment]
    assert run_job(rt, "intake") == {}  # logged and swallowed: the scheduler keeps running
    rt.sessions = real
    sync_once(rt)
    with transaction(real) as session:
        assert [d.status for d in session.scalars(select(Deal))] == ["synced"]
        assert session.scalar(select(SyncRun.status).where(SyncRun.job == "intake")
                              .order_by(SyncRun.id.desc()).limit(1)) == "ok"


def test_salesforce_outage_leaves_the_cursor_and_loses_no_deal(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    down = make_settings(stack, db_url, salesforce_instance_url=f"https://127.0.0.1:{_dead_port()}",
                         salesforce_timeout_s=2)
    counts = run_job(build_runtime(down, sessions), "intake")
    assert counts == {}
    with transaction(sessions) as session:
        run = session.scalar(select(SyncRun).where(SyncRun.job == "intake"))
        assert run is not None and run.status == "failed"
        assert "Salesforce could not be reached" in (run.error or "")
    sync_once(build_runtime(make_settings(stack, db_url), sessions))
    with transaction(sessions) as session:
        assert session.get(Deal, opp).status == "synced"  # type: ignore[union-attr]


def test_a_briefly_locked_sqlite_database_is_waited_for(
    stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    if not db_url.startswith("sqlite"):
        return
    import sqlite3
    import threading

    opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    rt = build_runtime(make_settings(stack, db_url), sessions)
    locker = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None,
                             check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a moment
    release = threading.Timer(1.5, lambda: locker.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    sync_once(rt)
    release.join()
    locker.close()
    assert time.monotonic() - started >= 1.4
    with transaction(sessions) as session:
        assert session.get(Deal, opp).status == "synced"  # type: ignore[union-attr]
