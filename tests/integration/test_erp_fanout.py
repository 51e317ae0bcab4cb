"""Posts to NetSuite and Sage Intacct keep the account's concurrency limit busy: the ERP
emulator holds each request 20 ms and takes 5 at once (429 beyond); closebot's post step runs a
batch's deals side by side, so 5 of its requests are in flight together, none is refused, and
every deal is posted once: a second pass over the same book creates nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.jobs import sync_once
from app.wiring import build_runtime, open_database
from sandbox.book import BookSeeder, generated_deals
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.tables import Deal
from tests.integration.conftest import make_settings

DEALS = 12
NETSUITE = ("customer", "salesOrder", "invoice", "customerPayment")
INTACCT = ("accounts-receivable/customer", "order-entry/document::Sales Order",
           "accounts-receivable/invoice", "accounts-receivable/payment")


@pytest.fixture(params=["netsuite", "intacct"])
def erp_stack(request: pytest.FixtureRequest) -> Iterator[SandboxStack]:
    with SandboxStack(erp=request.param, slack=False, erp_latency_s=0.02,
                      erp_concurrency_limit=5) as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in generated_deals(DEALS, seed=5):
            seeder.seed(deal)
        yield stack


def _records(stack: SandboxStack) -> Counter[str]:
    if stack.netsuite is not None:
        return Counter({kind: len(stack.netsuite.records(kind)) for kind in NETSUITE})
    assert stack.intacct is not None
    return Counter({kind: len(stack.intacct.records(kind)) for kind in INTACCT})


def test_posts_fill_the_concurrency_limit_and_land_once(erp_stack: SandboxStack,
                                                        tmp_path: Path) -> None:
    settings = make_settings(erp_stack, f"sqlite:///{tmp_path / 'closebot.db'}",
                             netsuite_concurrency=5, intacct_concurrency=5)
    engine, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    emulator = erp_stack.netsuite or erp_stack.intacct
    assert emulator is not None
    sync_once(rt)
    with transaction(sessions) as session:
        statuses = dict(session.execute(
            select(Deal.status, func.count()).group_by(Deal.status)).all())
    assert statuses == {"synced": DEALS}
    # One request at a time would never have more than 1 in flight; the limit is 5.
    assert emulator.gate.peak == 5
    assert emulator.calls.get("throttled", 0) == 0
    posted = _records(erp_stack)
    # Every deal has its customer, order and invoice; each record once (the book's deals
    # have distinct accounts).
    assert min(posted[kind] for kind in list(posted)[:3]) == DEALS, posted
    # The post step replayed for every deal (as after a crash before its results were
    # recorded), side by side again, and another pass: nothing new.
    calls = sum(emulator.calls.values())
    with transaction(sessions) as session:
        queue.arm_many(session, [(opp, version, "post", rt.now()) for opp, version in
                                 session.execute(select(Deal.opportunity_id,
                                                        Deal.current_version))])
    sync_once(rt)
    assert sum(emulator.calls.values()) > calls  # the replay did reach the ERP
    assert _records(erp_stack) == posted
    engine.dispose()
