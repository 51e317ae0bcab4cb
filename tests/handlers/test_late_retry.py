"""A Retry pressed long after a lost create finds what the first attempt made.

Stripe keeps idempotency keys for 24 hours. Here the answer to the first create is lost, the
following attempts fail until the deal becomes an exception, and a person presses Retry a day
and an hour later, when the key has expired: closebot must look before it creates, for a
subscription deal and for a one-time-only deal alike, and the customer made before the failure
must be reused, not made again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.faults import FaultPlan, FaultProxy
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, IdLink, SyncException, WorkItem
from sync.engine.runtime import Runtime
from sync.engine.worker import run_once
from sync.ops.audit import run_audit
from tests.handlers.conftest import APPROVERS, Harness, pipeline_settings, start, wait_for


def _one_time_deal() -> DealSpec:
    return DealSpec("Stark - Onboarding", "Stark Industries", "tony@stark-sales.example", "USD",
                    "Annual", "Net 30", 12,
                    [LineSpec("Implementation Services", 1, Decimal("15000"), "One-Time"),
                     LineSpec("Training", 2, Decimal("2500"), "One-Time")], date.today())


def _subscription_deal() -> DealSpec:
    return DealSpec("Wonka - Platform", "Wonka Industries", "willy@wonka-sales.example", "USD",
                    "Quarterly", "Net 30", 12,
                    [LineSpec("Platform Seats", 10, Decimal("1200"), "Recurring")], date.today())


@pytest.fixture
def proxied(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
            ) -> Iterator[tuple[Harness, SandboxStack, FaultProxy, Runtime]]:
    with (SandboxStack(slack=False) as stack,
          FaultProxy(stack.stripe.url, FaultPlan(), errors="stripe") as proxy):
        settings = pipeline_settings(recorder, db_url, stack, stripe_api_base=proxy.url)
        runtime = build_runtime(settings, sessions)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, stack, proxy, runtime


def _fail_until_exception(proxy: FaultProxy, runtime: Runtime, path: str) -> None:
    """The first create on `path` is done upstream but its answer is lost; every later call to
    `path` gets a 503 until the step gives up and opens an exception."""
    proxy.set_plan(FaultPlan(rate=1.0, kinds=("drop_response",), only_paths=(path,)))
    run_job(runtime, "intake")
    for _ in range(50):
        run_once(runtime)
        if [e for e in proxy.events if e[2] == "drop_response"]:
            break
    proxy.set_plan(FaultPlan(rate=1.0, kinds=("503",), only_paths=(path,)))
    for _ in range(500):
        run_once(runtime)
        with transaction(runtime.sessions) as session:
            if session.scalar(select(SyncException.id).where(SyncException.kind == "bill")):
                break
        time.sleep(0.01)
    proxy.set_plan(FaultPlan())


def _retry_a_day_later(harness: Harness, stack: SandboxStack, opp: str) -> None:
    stack.stripe.advance(days=1, seconds=3600)  # Stripe has forgotten the keys
    with transaction(harness.sessions) as session:
        exc = session.scalar(select(SyncException).where(
            SyncException.opportunity_id == opp, SyncException.status == "open"))
        assert exc is not None and exc.kind == "bill", "the deal should be an exception"
        exc_id = exc.id
    clicked = harness.slack.click("exception.retry", str(exc_id), user=APPROVERS[0])
    assert clicked.status_code == 200
    wait_for(lambda: _settled(harness, opp), timeout=30)


def _settled(harness: Harness, opp: str) -> bool:
    """Synced, and the Retry's run of the engine has nothing left to do (write-back included)."""
    with transaction(harness.sessions) as session:
        deal = session.get(Deal, opp)
        busy = session.scalar(select(WorkItem.id).where(
            WorkItem.status.in_(("pending", "running"))).limit(1))
        return deal is not None and deal.status == "synced" and busy is None


def test_late_retry_of_a_subscription_deal_creates_nothing_twice(proxied) -> None:
    harness, stack, proxy, runtime = proxied
    opp = BookSeeder(stack.salesforce).seed(_subscription_deal())
    _fail_until_exception(proxy, runtime, "/v1/subscriptions")
    assert len(stack.stripe.objects("subscription")) == 1  # made, but closebot never heard
    with transaction(runtime.sessions) as session:  # the customer was linked when it was made
        assert session.scalar(select(IdLink.external_id).where(IdLink.kind == "customer"))

    _retry_a_day_later(harness, stack, opp)

    assert len(stack.stripe.objects("customer")) == 1
    (subscription,) = stack.stripe.objects("subscription")
    assert len([i for i in stack.stripe.objects("invoice")
                if i.get("subscription") == subscription["id"]
                or (i.get("parent") or {}).get("subscription_details", {}).get("subscription")
                == subscription["id"]]) == 1
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_late_retry_of_a_one_time_only_deal_creates_one_invoice(proxied) -> None:
    harness, stack, proxy, runtime = proxied
    opp = BookSeeder(stack.salesforce).seed(_one_time_deal())
    _fail_until_exception(proxy, runtime, "/v1/invoices")
    assert len(stack.stripe.objects("invoice")) == 1  # the draft exists upstream

    _retry_a_day_later(harness, stack, opp)

    assert len(stack.stripe.objects("customer")) == 1
    (invoice,) = stack.stripe.objects("invoice")
    assert invoice["status"] == "open" and invoice["total"] == 2_000_000
    assert len(stack.stripe.objects("invoiceitem")) == 2
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()
