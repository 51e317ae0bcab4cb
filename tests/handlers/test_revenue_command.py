"""`/revenue [month]` through signed HTTP over the real pipeline (emulated Salesforce and Stripe,
the embedded ledger): the RPO and the months ahead answered to the person, the waterfall chart
uploaded to the channel with `files_upload_v2`.

By hand, two demo deals synced on day S (as tests/cli/test_revenue_waterfall.py):
- Acme (USD): Implementation 20,000 recognized on S; Platform 100,000 still to recognize,
  10,000 in each of the 10 months after S. RPO USD 100,000.00: current 100,000.00, non-current 0.
- Wayne Enterprises GmbH (EUR): 60,000 over 24 months, 2,500 a month: RPO EUR 60,000.00, the
  first 12 periods current (30,000.00), the last 12 non-current (30,000.00).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import recognize_revenue, sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from tests.handlers.conftest import Harness, pipeline_settings, slack_settings, start, wait_for


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[Harness]:
    with SandboxStack(slack=False) as stack:
        settings = pipeline_settings(recorder, db_url, stack)
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        deals = demo_deals()
        seeder.seed(deals[0])
        seeder.seed(deals[4])
        sync_once(runtime)
        assert recognize_revenue(runtime)["recognized"] >= 1  # the implementation, due on S
        yield from start(settings, sessions, recorder, runtime)


def _command(harness: Harness, text: str, channel: str) -> str:
    form = {"command": "/revenue", "text": text, "user_id": "UREQUEST1", "user_name": "u",
            "team_id": "T0CLOSEBOT", "channel_id": channel, "trigger_id": "1.2.tr",
            "response_url": harness.recorder.response_url(channel=channel),
            "api_app_id": "A0CLOSEBOT", "token": "legacy"}
    answer = harness.slack.post(urlencode(form))
    assert answer.status_code == 200
    return answer.text


def _said(harness: Harness, after: int = 0) -> str:
    found = wait_for(lambda: harness.recorder.responses()[after:], timeout=30)
    return " ".join(str(r["payload"]) for r in found)


def test_revenue_answers_rpo_and_uploads_the_waterfall_chart(live: Harness) -> None:
    _command(live, "", "C0FINALERTS")
    answer = _said(live)
    assert "Revenue waterfall as of" in answer
    assert "remaining performance obligations: *USD 100,000.00*" in answer
    assert "current (next 12 months) USD 100,000.00 · non-current USD 0.00" in answer
    assert "remaining performance obligations: *EUR 60,000.00*" in answer
    assert "current (next 12 months) EUR 30,000.00 · non-current EUR 30,000.00" in answer
    assert "Acme Corp" in answer and "Wayne Enterprises GmbH" in answer
    (chart,) = wait_for(lambda: live.recorder.files(), timeout=30)
    assert chart["channel"] == "C0FINALERTS" and chart["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert chart["name"].startswith("revenue-waterfall-")
    assert chart["title"].startswith("Revenue waterfall as of")
    assert len(chart["data"]) == chart["length"] > 5_000


def test_revenue_refuses_a_past_month_and_nonsense_without_a_chart(live: Harness) -> None:
    past = _command(live, "2020-01", "C0FINALERTS")
    assert "2020-01 is over: the waterfall shows what is still to be recognized" in past
    assert "Usage: `/revenue [month]`" in _command(live, "next quarter", "C0FINALERTS")
    assert live.recorder.responses() == [] and live.recorder.files() == []


def test_revenue_on_netsuite_says_where_the_schedules_are(
        recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]) -> None:
    settings = slack_settings(recorder, db_url, erp="netsuite")
    for harness in start(settings, sessions, recorder):
        said = _command(harness, "", "C0FINALERTS")
        assert "with NetSuite as the ERP, its revenue schedules are kept there" in said
        assert harness.recorder.files() == []
