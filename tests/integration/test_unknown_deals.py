"""Work armed for a deal the database doesn't hold ends as an exception a person can read,
never as a crashed batch with items left `running`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.tables import SyncException, SyncRun, WorkItem
from sync.engine.runtime import Runtime


def test_a_write_back_for_an_unknown_deal_is_an_exception_not_a_crash(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    known = BookSeeder(stack.salesforce).seed(demo_deals()[0])
    run_job(runtime, "intake")
    with transaction(sessions) as session:
        queue.arm(session, opportunity_id="006000000000404AAA", version=1, step="writeback")

    run_job(runtime, "worker")

    with transaction(sessions) as session:
        assert [r.status for r in session.scalars(select(SyncRun))] == ["ok", "ok"]
        assert session.scalars(select(WorkItem).where(WorkItem.status == "running")).all() == []
        (exc,) = session.scalars(select(SyncException))
        assert exc.opportunity_id == "006000000000404AAA" and exc.kind == "writeback"
        assert "no record of this deal" in exc.reason
    # The known deal in the same batch was written back.
    assert stack.salesforce.get("Opportunity", known)["Sync_Status__c"] == "Synced"
