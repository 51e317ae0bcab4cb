"""Retry and Dismiss on a failed sync are decisions: only operators and approvers take them,
each is audited (who, when, why), and anyone else is told whom to ask."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from storage.db import transaction
from storage.tables import AuditEntry, SyncException, WorkItem
from sync.ops import alerts
from sync.ops.surface import NotAllowed
from tests.handlers import seed
from tests.handlers.conftest import APPROVERS, Harness, slack_settings, start, wait_for

OPERATOR = "UOPS0001"


@pytest.fixture
def ops(recorder: SlackRecorder, db_url: str,
        sessions: sessionmaker[Session]) -> Iterator[Harness]:
    settings = slack_settings(recorder, db_url, slack_operators=f"{OPERATOR}, ",
                              slack_approver_group="S0FINANCE")
    recorder.add_usergroup("S0FINANCE", ["UGROUP01"])
    yield from start(settings, sessions, recorder)


def _failed(harness: Harness) -> int:
    seed.deal(harness.sessions, status="exception")
    exc_id = seed.exception(harness.sessions)
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()
    return exc_id


def _state(harness: Harness, exc_id: int) -> tuple[str, str]:
    with transaction(harness.sessions) as s:
        return s.get(SyncException, exc_id).status, s.scalar(select(WorkItem.status))


def _audit(harness: Harness, action: str) -> list[AuditEntry]:
    with transaction(harness.sessions) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_stranger_can_neither_retry_nor_dismiss(ops: Harness) -> None:
    exc_id = _failed(ops)
    ops.slack.click("exception.retry", str(exc_id), user="USTRANGER")
    ops.slack.click("exception.dismiss", str(exc_id), user="USTRANGER")
    forged = ops.slack.submit("exception.dismiss_modal", {"reason": "nothing to see"},
                              user="USTRANGER", metadata=str(exc_id))
    assert forged.json()["response_action"] == "errors"
    replies = wait_for(lambda: [r for r in ops.recorder.responses()
                                if "may retry" in r["payload"]["text"]
                                or "may dismiss" in r["payload"]["text"]])
    for reply in replies:
        text = reply["payload"]["text"]
        assert reply["payload"]["response_type"] == "ephemeral"
        assert f"<@{APPROVERS[0]}>" in text and f"<@{OPERATOR}>" in text
        assert "<!subteam^S0FINANCE>" in text and "Nothing was changed" in text
    assert len(wait_for(lambda: ops.recorder.responses() if len(
        ops.recorder.responses()) >= 2 else None)) == 2
    assert ops.recorder.views() == []  # no dismiss form for someone who may not dismiss
    assert _state(ops, exc_id) == ("open", "exception")
    assert _audit(ops, "exception.retry") == [] and _audit(ops, "exception.dismissed") == []
    with pytest.raises(NotAllowed):  # the rule is the service's, for every front
        alerts.dismiss(ops.surface.deps, exc_id, user="USTRANGER", reason="cli")


def test_operators_and_approvers_decide_and_are_audited(ops: Harness) -> None:
    exc_id = _failed(ops)
    assert ops.slack.click("exception.retry", str(exc_id), user=OPERATOR).status_code == 200
    (retried,) = _audit(ops, "exception.retry")
    assert retried.actor == OPERATOR and retried.subject == f"exception:{exc_id}"
    assert "could not be billed" in retried.data["problem"] and retried.at is not None
    assert _state(ops, exc_id)[1] == "pending"
    ops.slack.click("exception.dismiss", str(exc_id), user="UGROUP01")
    wait_for(lambda: ops.recorder.views())
    ops.slack.submit("exception.dismiss_modal", {"reason": "refunded by hand"}, user="UGROUP01",
                     metadata=str(exc_id))
    (dismissed,) = _audit(ops, "exception.dismissed")
    assert (dismissed.actor, dismissed.data["reason"]) == ("UGROUP01", "refunded by hand")
    assert "could not be billed" in dismissed.data["problem"] and dismissed.at is not None
    assert _state(ops, exc_id)[0] == "dismissed"


def test_with_nobody_configured_the_refusal_says_what_to_set(
    recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = slack_settings(recorder, db_url, slack_approvers="")
    for harness in start(settings, sessions, recorder):
        exc_id = _failed(harness)
        harness.slack.click("exception.retry", str(exc_id), user=APPROVERS[0])
        (reply,) = wait_for(lambda h=harness: h.recorder.responses())
        assert "SLACK_OPERATORS" in reply["payload"]["text"]
        assert _state(harness, exc_id) == ("open", "exception")
