"""Approval cards: who may decide, one decision under races, and what a decision changes."""

from __future__ import annotations

import threading

from sqlalchemy import select

from storage.db import transaction
from storage.slack_tables import ApprovalDecision
from storage.tables import Approval, AuditEntry, Deal, WorkItem
from sync.ops import approvals
from tests.handlers import seed
from tests.handlers.conftest import APPROVERS, Harness, wait_for


def _card(harness: Harness) -> tuple[dict, str]:
    seed.deal(harness.sessions)
    seed.approval(harness.sessions)
    approvals.post_new_cards(harness.surface.deps)
    harness.surface.flush()
    (card,) = harness.recorder.messages("C0APPROVALS")
    buttons = card["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["approval.approve", "approval.reject"]
    return card, buttons[0]["value"]


def _replies(harness: Harness, n: int) -> list[dict]:
    found = harness.recorder.responses()
    return found if len(found) >= n else []


def _state(harness: Harness) -> tuple[str, int, str, str | None]:
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval))
        deal = s.get(Deal, "006A")
        bill = s.scalar(select(WorkItem.status).where(WorkItem.step == "bill"))
        return ap.status, ap.version, deal.status, bill


def test_card_shows_what_is_non_standard(harness: Harness) -> None:
    card, ref = _card(harness)
    text = str(card["blocks"])
    assert "Acme Corp" in text and "<@UOWNER01>" in text
    assert "35% off list" in text and "USD 150,000.00" in text and "USD 97,500.00" in text
    assert "On approval" in text
    assert approvals.ApprovalRef.decode(ref).v == 1


def test_approve_resumes_the_deal_and_updates_the_card(harness: Harness) -> None:
    card, ref = _card(harness)
    r = harness.slack.click("approval.approve", ref, user=APPROVERS[0],
                            message=("C0APPROVALS", card["ts"]))
    assert r.status_code == 200
    assert _state(harness) == ("approved", 2, "pending", "pending")
    updated = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                                if m.get("edited")])
    assert "Approved" in updated[0]["text"] and "approval.approve" not in str(updated[0]["blocks"])
    with transaction(harness.sessions) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "approval.approved"))
        assert entry.actor == APPROVERS[0]
        assert entry.data["original"] == ["USD 150,000.00"]
        assert entry.data["modified"] == ["USD 97,500.00"]
        assert entry.data["downstream"]


def test_unauthorized_and_self_approval_change_nothing(harness: Harness) -> None:
    _c, ref = _card(harness)
    harness.slack.click("approval.approve", ref, user="USTRANGER")
    harness.slack.click("approval.approve", ref, user="UOWNER01")
    harness.slack.click("approval.reject", ref, user="USTRANGER")
    replies = wait_for(lambda: _replies(harness, 3))
    texts = [r["payload"]["text"] for r in replies]
    assert any("Only configured finance approvers" in t for t in texts)
    assert all(r["payload"]["response_type"] == "ephemeral" for r in replies)
    assert _state(harness) == ("pending", 1, "awaiting_approval", "held")
    assert harness.recorder.views() == []


def test_owner_who_is_an_approver_still_cannot_approve_own(harness: Harness, recorder,
                                                            db_url, sessions) -> None:
    from tests.handlers.conftest import slack_settings, start

    settings = slack_settings(recorder, db_url, slack_approvers="UOWNER01,UAPPROVE1")
    for h in start(settings, sessions, recorder):
        _c, ref = _card(h)
        h.slack.click("approval.approve", ref, user="UOWNER01")
        reply = wait_for(lambda h=h: h.recorder.responses())[0]["payload"]
        assert "someone else has to approve" in reply["text"]
        assert _state(h)[0] == "pending"


def test_double_click_race_makes_one_decision(harness: Harness) -> None:
    _c, ref = _card(harness)
    results = []
    barrier = threading.Barrier(4)

    def click(user: str) -> None:
        barrier.wait()
        results.append(harness.slack.click("approval.approve", ref, user=user).status_code)

    threads = [threading.Thread(target=click, args=(u,)) for u in (*APPROVERS, *APPROVERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert _state(harness)[:2] == ("approved", 2)
    with transaction(harness.sessions) as s:
        assert len(s.scalars(select(ApprovalDecision)).all()) == 1
        assert len(s.scalar(select(Approval)).decisions) == 1
    replies = wait_for(lambda: _replies(harness, 3))
    assert all("already" in r["payload"]["text"] or "a moment ago" in r["payload"]["text"]
               for r in replies)


def test_stale_card_cannot_decide_again(harness: Harness) -> None:
    _c, ref = _card(harness)
    harness.slack.click("approval.approve", ref, user=APPROVERS[0])
    harness.slack.click("approval.reject", ref, user=APPROVERS[1])
    reply = wait_for(lambda: harness.recorder.responses())[0]["payload"]
    assert "already handled" in reply["text"]
    assert _state(harness)[0] == "approved"


def test_reject_asks_for_a_reason_and_stops_the_deal(harness: Harness) -> None:
    _c, ref = _card(harness)
    harness.slack.click("approval.reject", ref, user=APPROVERS[1])
    (modal,) = wait_for(lambda: harness.recorder.views())
    assert modal["callback_id"] == "approval.reject_modal" and modal["private_metadata"] == ref
    empty = harness.slack.submit("approval.reject_modal", {"reason": ""}, user=APPROVERS[1],
                                 metadata=ref)
    assert empty.json()["response_action"] == "errors" and "reason" in empty.json()["errors"]
    ok = harness.slack.submit("approval.reject_modal", {"reason": "Discount not agreed"},
                              user=APPROVERS[1], metadata=ref)
    assert ok.status_code == 200 and ok.text == ""
    assert _state(harness) == ("rejected", 2, "rejected", "held")
    with transaction(harness.sessions) as s:
        deal = s.get(Deal, "006A")
        assert "Discount not agreed" in deal.message
        assert s.scalar(select(WorkItem.status).where(WorkItem.step == "writeback")) == "pending"
        from sync.engine.writeback import desired_update

        update = desired_update(s, "006A", erp="ledger", now=None)
        assert update.fields["Sync_Status__c"] == "Rejected"
        assert "Discount not agreed" in update.fields["Sync_Error__c"]
        assert update.fields["Approval_Status__c"] == "Rejected"
    edited = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                               if m.get("edited")])
    assert "Discount not agreed" in str(edited[0]["blocks"])


def test_reminder_threads_under_the_card(harness: Harness) -> None:
    from datetime import timedelta

    card, _ref = _card(harness)
    deps = harness.surface.deps
    later = deps.now() + timedelta(hours=25)
    deps.now = lambda: later
    assert approvals.remind(deps) == 1
    assert approvals.remind(deps) == 0
    harness.surface.flush()
    (reply,) = [m for m in harness.recorder.messages("C0APPROVALS") if m.get("thread_ts")]
    assert reply["thread_ts"] == card["ts"] and "Reminder" in reply["text"]
