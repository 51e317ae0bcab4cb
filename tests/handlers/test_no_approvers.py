"""With no approvers configured nobody can decide, and the refusal says which setting to set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from sync.ops import approvals
from tests.handlers import seed
from tests.handlers.conftest import Harness, slack_settings, start, wait_for


@pytest.fixture
def unconfigured(recorder: SlackRecorder, db_url: str,
                 sessions: sessionmaker[Session]) -> Iterator[Harness]:
    yield from start(slack_settings(recorder, db_url, slack_approvers=""), sessions, recorder)


def test_approve_without_any_approver_configured_names_the_setting(
    unconfigured: Harness,
) -> None:
    seed.deal(unconfigured.sessions)
    seed.approval(unconfigured.sessions)
    approvals.post_new_cards(unconfigured.surface.deps)
    unconfigured.surface.flush()
    (card,) = unconfigured.recorder.messages("C0APPROVALS")
    ref = card["blocks"][-1]["elements"][0]["value"]

    unconfigured.slack.click("approval.approve", ref, user="UAPPROVE1")
    (reply,) = wait_for(lambda: unconfigured.recorder.responses())
    text = reply["payload"]["text"]
    assert "No approvers are configured" in text and "SLACK_APPROVERS" in text
    assert reply["payload"]["response_type"] == "ephemeral"
