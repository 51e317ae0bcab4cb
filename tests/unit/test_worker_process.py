"""Graceful shutdown: on SIGTERM the step in hand finishes and the rest is handed back."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import worker_process
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder, generated_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import WorkItem


def test_stop_finishes_the_current_item_and_releases_the_rest(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    stop = threading.Event()
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in generated_deals(12, seed=3):
            seeder.seed(deal)
        settings = Settings(database_url=db_url, batch_size=10, worker_interval_s=1,
                            **stack.settings_overrides())
        rt = build_runtime(settings, sessions)
        ensure = rt.billing.ensure_contract
        calls: list[str] = []

        def billing_then_stop(contract: Any, **kwargs: Any) -> Any:
            calls.append(contract.opportunity_id)
            if len(calls) == 3:
                stop.set()  # SIGTERM arrives while the third step is talking to Stripe
            return ensure(contract, **kwargs)

        rt.billing.ensure_contract = billing_then_stop  # type: ignore[method-assign]
        thread = threading.Thread(target=worker_process.run, args=(rt, settings, stop))
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive()
    with transaction(sessions) as session:
        by_status = Counter(dict(session.execute(
            select(WorkItem.status, func.count()).where(WorkItem.step == "bill")
            .group_by(WorkItem.status)).all()))
        leased = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.lease_owner.is_not(None)))
    assert len(calls) == 3
    assert by_status["done"] == 3  # the step in hand finished
    assert by_status["pending"] == 9  # the rest of the claimed batch and beyond: handed back
    assert by_status["running"] == 0 and leased == 0
