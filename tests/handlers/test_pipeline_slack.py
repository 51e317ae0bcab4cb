"""The Slack surface over the real pipeline: emulated Salesforce and Stripe, the embedded
ledger, the recording Slack API. Approve resumes a held deal; an approved credit reaches
Stripe, the ledger and Salesforce; a retry creates nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal, IdLink
from sync.engine.billing_events import poll_events
from sync.ops import alerts, approvals
from sync.ops.audit import run_audit
from tests.handlers.conftest import APPROVERS, Harness, pipeline_settings, start, wait_for


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, SandboxStack, dict]]:
    with SandboxStack(slack=False) as stack:
        settings = pipeline_settings(recorder, db_url, stack)
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        ids = {d.account: seeder.seed(d) for d in demo_deals()}
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, stack, {"ids": ids, "runtime": runtime}


def _deal(sessions: sessionmaker[Session], opp: str) -> Deal:
    with transaction(sessions) as s:
        return s.get(Deal, opp)


def test_approving_a_held_deal_bills_it(live) -> None:
    harness, stack, ctx = live
    opp = ctx["ids"]["Initech"]
    assert _deal(harness.sessions, opp).status == "awaiting_approval"
    assert not [s for s in stack.stripe.objects("customer") if s["name"] == "Initech"]
    approvals.post_new_cards(harness.surface.deps)
    harness.surface.flush()
    (card,) = harness.recorder.messages("C0APPROVALS")
    ref = card["blocks"][-1]["elements"][0]["value"]
    harness.slack.click("approval.approve", ref, user=APPROVERS[0])
    sync_once(ctx["runtime"])
    assert _deal(harness.sessions, opp).status == "synced"
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Approval_Status__c"] == "Approved" and record["Stripe_Subscription_Id__c"]


def test_approved_credit_reaches_stripe_ledger_and_salesforce(live) -> None:
    harness, stack, ctx = live
    opp = ctx["ids"]["Acme Corp"]
    with transaction(harness.sessions) as s:
        inv = s.scalar(select(BillingInvoice).where(BillingInvoice.opportunity_id == opp))
        number, billing_id = inv.number, inv.billing_id
    answer = harness.slack.command("/credit", f"{number} 6000 outage credit", user="UREQUEST1")
    assert "sent for approval" in answer.json()["text"], answer.text
    card = wait_for(lambda: harness.recorder.messages("C0APPROVALS"))[0]
    ref = card["blocks"][-1]["elements"][0]["value"]
    harness.slack.click("approval.approve", ref, user="UREQUEST1")  # requester: refused
    harness.slack.click("approval.approve", ref, user=APPROVERS[0])
    reply = wait_for(lambda: [r for r in harness.recorder.responses()
                              if "second approver" in r["payload"]["text"]])
    assert reply
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        assert (ap.status, ap.version) == ("pending", 2)
    new_ref = approvals.ApprovalRef(id=ap.id, v=2).encode()
    harness.slack.click("approval.approve", ref, user=APPROVERS[1])  # stale card
    harness.slack.click("approval.approve", new_ref, user=APPROVERS[1])
    wait_for(lambda: [n for n in stack.stripe.objects("credit_note")
                      if n["invoice"] == billing_id])
    wait_for(lambda: _applied(harness.sessions))
    notes = [n for n in stack.stripe.objects("credit_note") if n["invoice"] == billing_id]
    assert len(notes) == 1 and notes[0]["amount"] == 600_000
    with transaction(harness.sessions) as s:
        memo = s.scalar(select(IdLink.external_id).where(
            IdLink.scope == f"credit:{ap.id}", IdLink.kind == "credit_memo"))
        assert memo and ap.id
    sync_once(ctx["runtime"])
    record = stack.salesforce.get("Opportunity", opp)
    assert Decimal(str(record["Outstanding_Balance__c"])) == Decimal("114000")
    from sync.ops.credits import apply

    assert apply(ctx["runtime"], harness.surface.deps, ap.id) == "already_applied"
    assert len([n for n in stack.stripe.objects("credit_note") if n["invoice"] == billing_id]) == 1


def _applied(sessions: sessionmaker[Session]) -> bool:
    with transaction(sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        return bool(ap.payload.get("applied"))


def test_credit_on_an_invoice_not_yet_in_the_erp_is_posted_after_it(live) -> None:
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["ids"]["Umbrella Health"]
    stack.stripe.advance(days=93)  # the quarterly subscription renews: an invoice not yet posted
    poll_events(rt)
    with transaction(harness.sessions) as s:
        renewal = s.scalar(select(BillingInvoice).where(
            BillingInvoice.opportunity_id == opp, BillingInvoice.erp_invoice_id.is_(None),
            BillingInvoice.status == "open"))
        assert renewal is not None and renewal.total_minor == 3_000_000
        number, billing_id = renewal.number, renewal.billing_id
    answer = harness.slack.command("/credit", f"{number} 1000 late onboarding", user="UREQUEST1")
    assert "sent for approval" in answer.json()["text"], answer.text
    card = wait_for(lambda: harness.recorder.messages("C0APPROVALS"))[0]
    harness.slack.click("approval.approve", card["blocks"][-1]["elements"][0]["value"],
                        user=APPROVERS[0])
    wait_for(lambda: _applied(harness.sessions))
    ledger = rt.erp.ledger
    assert [n["amount"] for n in stack.stripe.objects("credit_note")
            if n["invoice"] == billing_id] == [100_000]
    assert billing_id not in ledger.ar_open_by_invoice()  # the ERP has neither yet
    sync_once(rt)
    assert ledger.ar_open_by_invoice()[billing_id] == 2_900_000
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval).where(Approval.kind == "credit"))
        memo = s.scalar(select(IdLink.external_id).where(
            IdLink.scope == f"credit:{ap.id}", IdLink.kind == "credit_memo"))
        assert memo and ap.payload["credit_memo"] == memo
    sync_once(rt)  # a second pass posts nothing new
    assert ledger.ar_open_by_invoice()[billing_id] == 2_900_000
    alerts.sweep(harness.surface.deps)  # the invalid demo deal's alert, which the audit wants
    harness.surface.flush()
    report = run_audit(rt)
    assert report.ok, report.problems()
