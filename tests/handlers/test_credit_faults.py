"""An approved credit is a durable step: Stripe failing or an answer lost on the way back
delays it, never loses it, and never applies it twice.

Both cases start from the demo book synced to the embedded ledger, with Stripe behind the fault
proxy. A $200 credit is requested on Acme's $120,000 invoice and approved in Slack.
- 503s until the step gives up: an alert with Retry appears; once Stripe answers again, Retry
  applies the credit: one credit note of $200, one ledger credit memo, AR $119,800 in the ledger,
  in Stripe and on the Salesforce opportunity.
- The answer to the credit-note create is lost: the note exists in Stripe, the step is retried
  under the same key and posts the memo: the same $119,800 everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.faults import FaultPlan, FaultProxy
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, IdLink, SyncException, WorkItem
from sync.engine.runtime import Runtime
from sync.ops import alerts
from sync.ops.audit import run_audit
from tests.handlers.conftest import APPROVERS, Harness, pipeline_settings, start, wait_for

NOTES = "/v1/credit_notes"


@pytest.fixture
def faulty(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
           ) -> Iterator[tuple[Harness, SandboxStack, FaultProxy, Runtime, str]]:
    with (SandboxStack(slack=False) as stack,
          FaultProxy(stack.stripe.url, FaultPlan(), errors="stripe") as proxy):
        settings = pipeline_settings(recorder, db_url, stack, stripe_api_base=proxy.url)
        runtime = build_runtime(settings, sessions)
        ids = {d.account: BookSeeder(stack.salesforce).seed(d) for d in demo_deals()}
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, stack, proxy, runtime, ids["Acme Corp"]


def _approve_credit(harness: Harness, opp: str) -> tuple[int, str]:
    with transaction(harness.sessions) as s:
        inv = s.scalar(select(BillingInvoice).where(BillingInvoice.opportunity_id == opp))
        number, billing_id = inv.number, inv.billing_id
    answer = harness.slack.command("/credit", f"{number} 200 onboarding delay", user="UREQUEST1")
    assert "sent for approval" in answer.json()["text"], answer.text
    card = wait_for(lambda: harness.recorder.messages("C0APPROVALS"))[0]
    harness.slack.click("approval.approve", card["blocks"][-1]["elements"][0]["value"],
                        user=APPROVERS[0])
    with transaction(harness.sessions) as s:
        approval = s.scalar(select(Approval.id).where(Approval.kind == "credit"))
    return approval, billing_id


def _credit_item(harness: Harness, approval: int) -> WorkItem | None:
    with transaction(harness.sessions) as s:
        return s.scalar(select(WorkItem).where(WorkItem.step == f"credit:{approval}"))


def _ties_out(harness: Harness, stack: SandboxStack, runtime: Runtime, opp: str,
              approval: int, billing_id: str) -> None:
    notes = [n for n in stack.stripe.objects("credit_note") if n["invoice"] == billing_id]
    assert [n["amount"] for n in notes] == [20_000]
    (invoice,) = [i for i in stack.stripe.objects("invoice") if i["id"] == billing_id]
    assert invoice["amount_remaining"] == 11_980_000
    assert runtime.erp.ledger.ar_open_by_invoice()[billing_id] == 11_980_000  # type: ignore[attr-defined]
    with transaction(harness.sessions) as s:
        memos = s.scalars(select(IdLink.external_id).where(
            IdLink.scope == f"credit:{approval}", IdLink.kind == "credit_memo")).all()
        assert len(memos) == 1
    sync_once(runtime)
    record = stack.salesforce.get("Opportunity", opp)
    assert Decimal(str(record["Outstanding_Balance__c"])) == Decimal("119800")
    alerts.sweep(harness.surface.deps)  # the demo's invalid deal has an alert, as the audit wants
    harness.surface.flush()
    report = run_audit(runtime)
    assert report.ok, report.problems()


def test_credit_that_stripe_refuses_for_a_while_is_applied_by_retry(faulty) -> None:
    harness, stack, proxy, runtime, opp = faulty
    proxy.set_plan(FaultPlan(rate=1.0, kinds=("503",), only_paths=(NOTES,)))
    approval, billing_id = _approve_credit(harness, opp)
    for _ in range(200):
        sync_once(runtime)
        with transaction(harness.sessions) as s:
            exc = s.scalar(select(SyncException).where(SyncException.kind == "credit",
                                                       SyncException.status == "open"))
            if exc is not None:
                break
        time.sleep(0.02)
    assert exc is not None and exc.work_item_id is not None
    assert f"Credit approval {approval}" in exc.reason
    assert not stack.stripe.objects("credit_note")
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()
    alert = wait_for(lambda: [m for m in harness.recorder.messages("C0ALERTS")
                              if f"Credit approval {approval}" in m["text"]])[0]
    retry = next(e["value"] for b in alert["blocks"] for e in b.get("elements", [])
                 if e.get("action_id") == "exception.retry")

    proxy.set_plan(FaultPlan())
    harness.slack.click("exception.retry", retry, user=APPROVERS[0])
    wait_for(lambda: (_credit_item(harness, approval) or WorkItem()).status == "done",
             timeout=20)
    _ties_out(harness, stack, runtime, opp, approval, billing_id)
    with transaction(harness.sessions) as s:
        assert s.get(SyncException, exc.id).status == "resolved"  # type: ignore[union-attr]


def test_credit_whose_answer_was_lost_is_applied_once(faulty) -> None:
    harness, stack, proxy, runtime, opp = faulty
    proxy.set_plan(FaultPlan(rate=1.0, kinds=("drop_response",), only_paths=(NOTES,)))
    approval, billing_id = _approve_credit(harness, opp)
    wait_for(lambda: [e for e in proxy.events if e[2] == "drop_response"], timeout=20)
    wait_for(lambda: (_credit_item(harness, approval) or WorkItem()).attempts == 1, timeout=20)
    proxy.set_plan(FaultPlan())
    assert len(stack.stripe.objects("credit_note")) == 1  # made, but closebot never heard
    for _ in range(50):
        sync_once(runtime)
        if (_credit_item(harness, approval) or WorkItem()).status == "done":
            break
        time.sleep(0.02)
    _ties_out(harness, stack, runtime, opp, approval, billing_id)
