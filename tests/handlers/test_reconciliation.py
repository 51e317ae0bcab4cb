"""The nightly reconciliation: the audit on the scheduler, each deal's variances raised as one
exception that reaches the alerts channel in words, resolved (and its alert closed) once the
books agree again; it never holds the deal's own steps."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import SINGLETON_JOBS, run_job, sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, SyncException, SyncRun
from sync.ops import alerts
from tests.handlers.conftest import Harness, slack_settings, start
from tests.integration.conftest import make_settings

SPEC = DealSpec("Recon Co - Platform", "Recon Co", "rep@sales.example", "USD", "Quarterly",
                "Net 30", 12, [LineSpec("Platform Seats", 10, Decimal("1200"), "Recurring")])


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
         ) -> Iterator[tuple[Harness, SandboxStack, dict]]:
    with SandboxStack(slack=False) as stack:
        base = make_settings(stack, db_url)
        settings = slack_settings(recorder, db_url, **{
            k: getattr(base, k) for k in ("salesforce_instance_url", "salesforce_access_token",
                                          "salesforce_api_version", "salesforce_ca_bundle",
                                          "stripe_api_key", "stripe_api_base", "max_attempts",
                                          "backoff_base_s", "backoff_max_s")})
        runtime = build_runtime(settings, sessions)
        opp = BookSeeder(stack.salesforce).seed(SPEC)
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, stack, {"opp": opp, "runtime": runtime}


def _open(sessions: sessionmaker[Session]) -> list[SyncException]:
    with transaction(sessions) as s:
        return list(s.scalars(select(SyncException).where(
            SyncException.kind == "reconciliation", SyncException.status == "open")))


def _sweep(harness: Harness) -> None:
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()


def test_a_variance_becomes_an_alert_and_its_fix_resolves_it(live) -> None:
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["opp"]
    assert "books_reconciliation" in SINGLETON_JOBS
    assert run_job(rt, "books_reconciliation")["raised"] == 0
    # A deal intake has not read yet is work in flight, not a lost deal (the audit says lost).
    BookSeeder(stack.salesforce).seed(SPEC)
    counts = run_job(rt, "books_reconciliation")
    assert (counts["raised"], counts["in_flight"]) == (0, 1)
    # Someone types over closebot's balance in Salesforce: the $3,000 quarter open shows $1,200.
    stack.salesforce.update("Opportunity", opp, {"Outstanding_Balance__c": Decimal("1200")})
    assert run_job(rt, "books_reconciliation")["in_flight"] == 3  # not read by intake yet
    run_job(rt, "intake")
    counts = run_job(rt, "books_reconciliation")
    assert (counts["raised"], counts["variances"]) == (1, 2)
    (exc,) = _open(harness.sessions)
    assert exc.opportunity_id == opp
    assert exc.reason.startswith("The books disagree for Recon Co - Platform: ")
    assert ("Recon Co - Platform: Salesforce shows USD 1,200.00 outstanding but Stripe says "
            "USD 3,000.00; Salesforce shows USD 1,200.00 outstanding but the ledger holds "
            "USD 3,000.00 receivable") in exc.reason
    _sweep(harness)
    (alert,) = harness.recorder.messages("C0ALERTS")
    assert "USD 1,200.00 outstanding" in alert["text"] + str(alert["blocks"])
    assert "nightly reconciliation" in str(alert["blocks"])
    run_job(rt, "books_reconciliation")  # still wrong: the same exception, refreshed
    assert [e.id for e in _open(harness.sessions)] == [exc.id]

    stack.salesforce.update("Opportunity", opp, {"Outstanding_Balance__c": Decimal("3000")})
    run_job(rt, "intake")
    assert run_job(rt, "books_reconciliation")["resolved"] == 1
    assert _open(harness.sessions) == []
    _sweep(harness)
    (alert,) = harness.recorder.messages("C0ALERTS")
    assert alert["text"].startswith("✅ Resolved")
    with transaction(harness.sessions) as s:
        runs = s.scalars(select(SyncRun.status).where(SyncRun.job == "books_reconciliation"))
        assert set(runs) == {"ok"}


def test_a_reconciliation_exception_does_not_hold_the_deal(live) -> None:
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["opp"]
    stack.salesforce.update("Opportunity", opp, {"Outstanding_Balance__c": Decimal("1")})
    run_job(rt, "intake")
    run_job(rt, "books_reconciliation")
    assert len(_open(harness.sessions)) == 1
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp]
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 11})  # +10%: no approval
    sync_once(rt)
    with transaction(harness.sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None and (deal.status, deal.current_version) == ("synced", 2)
