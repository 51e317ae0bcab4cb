"""Alerts, owner DMs, Retry / Dismiss, the outbox under Slack failures, digest and App Home."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import transaction
from storage.slack_tables import OutboxMessage
from storage.tables import Deal, SyncException, WorkItem
from sync.engine import exceptions
from sync.ops import alerts, digest
from tests.handlers import seed
from tests.handlers.conftest import APPROVERS, Harness, wait_for


def flat(value: object) -> str:
    return str(value).replace("\\n", "\n")


def _sweep(harness: Harness) -> None:
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()


def test_one_alert_per_exception_updated_in_place(harness: Harness) -> None:
    seed.deal(harness.sessions, status="exception")
    exc_id = seed.exception(harness.sessions)
    _sweep(harness)
    _sweep(harness)
    (alert,) = harness.recorder.messages("C0ALERTS")
    assert "could not be billed" in alert["text"] and "Attempts*\n3" in flat(alert["blocks"])
    assert len(harness.recorder.calls("chat.postMessage")) == 1
    with transaction(harness.sessions) as s:
        exc = s.get(SyncException, exc_id)
        assert (exc.alert_channel, exc.alert_ts) == ("C0ALERTS", alert["ts"])
        exc.attempts = 4
    _sweep(harness)
    assert len(harness.recorder.calls("chat.postMessage")) == 1
    assert "Attempts*\n4" in flat(harness.recorder.messages("C0ALERTS")[0]["blocks"])
    with transaction(harness.sessions) as s:
        exceptions.resolve(s, opportunity_id="006A", kinds=["bill"])
    _sweep(harness)
    (alert,) = harness.recorder.messages("C0ALERTS")
    assert alert["text"].startswith("✅ Resolved")


def test_validation_failure_dms_the_owner(harness: Harness) -> None:
    seed.deal(harness.sessions, status="exception")
    with transaction(harness.sessions) as s:
        exceptions.raise_exception(s, opportunity_id="006A", kind="validation",
                                   system="salesforce", fields=["Billing_Cadence__c"],
                                   reason="Deal Acme Renewal can't be billed: cadence is empty")
    _sweep(harness)
    assert [c["args"]["email"] for c in harness.recorder.calls("users.lookupByEmail")] == [
        "owner@example.com"]
    assert harness.recorder.calls("conversations.open")
    (dm,) = harness.recorder.messages("DOWNER01")
    assert "Billing Cadence" in dm["text"]
    assert "lightning/r/Opportunity/006A" in str(dm["blocks"])
    with transaction(harness.sessions) as s:
        exceptions.resolve(s, opportunity_id="006A", kinds=["validation"])
    _sweep(harness)
    assert "fixed" in harness.recorder.messages("DOWNER01")[0]["text"]
    assert harness.recorder.messages("C0ALERTS")[0]["text"].startswith("✅")


def test_many_failures_of_one_cause_share_one_grouped_alert(harness: Harness) -> None:
    for n in range(4):
        seed.deal(harness.sessions, f"006G{n}", status="exception")
        seed.exception(harness.sessions, f"006G{n}", error="Stripe unreachable: timeout")
    _sweep(harness)
    (group,) = harness.recorder.messages("C0ALERTS")
    assert group["text"].startswith("🔴 Stripe unreachable: 4 deals waiting, next retry at")
    with transaction(harness.sessions) as s:
        for item in s.scalars(select(WorkItem)):
            item.last_error = None
    _sweep(harness)
    texts = sorted(m["text"] for m in harness.recorder.messages("C0ALERTS"))
    assert texts[0].startswith("✅ Recovered") and len(texts) == 5


def test_retry_and_dismiss_from_the_alert(harness: Harness) -> None:
    seed.deal(harness.sessions, status="exception")
    exc_id = seed.exception(harness.sessions)
    _sweep(harness)
    for _ in range(2):
        clicked = harness.slack.click("exception.retry", str(exc_id), user=APPROVERS[0])
        assert clicked.status_code == 200
    with transaction(harness.sessions) as s:
        item = s.scalar(select(WorkItem))
        assert (item.status, item.attempts) == ("pending", 0)
        assert s.get(Deal, "006A").status == "pending"
    harness.slack.click("exception.dismiss", str(exc_id), user=APPROVERS[0])
    (modal,) = wait_for(lambda: harness.recorder.views())
    assert modal["callback_id"] == "exception.dismiss_modal"
    r = harness.slack.submit("exception.dismiss_modal", {"reason": "handled by hand"},
                             user=APPROVERS[0], metadata=str(exc_id))
    assert r.status_code == 200
    with transaction(harness.sessions) as s:
        exc = s.get(SyncException, exc_id)
        assert (exc.status, exc.resolution, exc.resolved_by) == (
            "dismissed", "handled by hand", APPROVERS[0])
    wait_for(lambda: harness.recorder.messages("C0ALERTS")[0]["text"].startswith("⚪"))
    again = harness.slack.submit("exception.dismiss_modal", {"reason": "again"},
                                 user=APPROVERS[0], metadata=str(exc_id))
    assert again.json()["response_action"] == "errors"


def test_slack_outage_and_rate_limit_deliver_later_once(harness: Harness) -> None:
    seed.deal(harness.sessions, status="exception")
    seed.exception(harness.sessions)
    harness.recorder.outage(True)
    _sweep(harness)
    assert harness.recorder.messages("C0ALERTS") == []
    harness.recorder.outage(False)
    harness.recorder.fail("chat.postMessage", times=2, retry_after=1)
    with transaction(harness.sessions) as s:
        row = s.scalar(select(OutboxMessage))
        assert (row.status, row.attempts) == ("pending", 1)
        row.next_attempt_at = row.created_at
    harness.surface.flush()  # 429 twice: the client waits Retry-After once, then defers
    with transaction(harness.sessions) as s:
        row = s.scalar(select(OutboxMessage))
        assert row.status == "pending" and "rate limit" in row.last_error
        row.next_attempt_at = row.created_at
    harness.surface.flush()
    harness.surface.flush()
    assert len(harness.recorder.messages("C0ALERTS")) == 1


def test_digest_and_app_home(harness: Harness) -> None:
    seed.deal(harness.sessions)
    seed.approval(harness.sessions)
    seed.invoice(harness.sessions, "ACME-0001", "Acme Corp", due_days=-3)
    digest.post_digest(harness.surface.deps)
    digest.post_digest(harness.surface.deps)
    harness.surface.flush()
    (posted,) = harness.recorder.messages("C0DIGEST")
    blocks = flat(posted["blocks"])
    assert "Awaiting approval*\n1" in blocks
    assert "USD 1,500.00" in blocks
    r = harness.slack.event({"type": "app_home_opened", "user": APPROVERS[0], "tab": "home",
                             "channel": "D0HOME"})
    assert r.status_code == 200
    (home,) = wait_for(lambda: harness.recorder.views())
    assert home["type"] == "home" and "approval.approve" in str(home["blocks"])
