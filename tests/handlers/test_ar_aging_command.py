"""`/ar-aging` through signed HTTP over the real pipeline (emulated Salesforce and Stripe, the
embedded ledger): the buckets answered to the person, the chart uploaded to the channel.

Worked by hand: the demo book's deals synced today bill their first invoices today, Net 30,
unpaid; nothing is past due, so every open balance is current, and the buckets add up to the
ledger's open invoices.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from sync.money import format_money
from tests.handlers.conftest import Harness, pipeline_settings, start, wait_for


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, int]]:
    with SandboxStack(slack=False) as stack:
        settings = pipeline_settings(recorder, db_url, stack)
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        for deal in demo_deals():
            seeder.seed(deal)
        sync_once(runtime)
        open_usd = sum(i.open_minor for page in runtime.erp.open_invoices() for i in page
                       if i.currency == "USD")
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, open_usd


def _command(harness: Harness, text: str, channel: str) -> None:
    form = {"command": "/ar-aging", "text": text, "user_id": "UREQUEST1", "user_name": "u",
            "team_id": "T0CLOSEBOT", "channel_id": channel, "trigger_id": "1.2.tr",
            "response_url": harness.recorder.response_url(channel=channel),
            "api_app_id": "A0CLOSEBOT", "token": "legacy"}
    assert harness.slack.post(urlencode(form)).status_code == 200


def test_ar_aging_answers_and_uploads_the_chart(live: tuple[Harness, int]) -> None:
    harness, open_usd = live
    assert open_usd > 0
    _command(harness, "", "C0FINALERTS")
    answer = str(wait_for(lambda: harness.recorder.responses(), timeout=30)[0]["payload"])
    assert "AR aging as of" in answer
    assert f"*current*\\n{format_money(open_usd, 'USD')}" in answer
    assert f"*total*\\n{format_money(open_usd, 'USD')}" in answer
    (chart,) = wait_for(lambda: harness.recorder.files(), timeout=30)
    assert chart["channel"] == "C0FINALERTS" and chart["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert chart["name"].startswith("ar-aging-") and chart["title"].startswith("AR aging as of")
    assert len(chart["data"]) == chart["length"] > 5_000


def test_ar_aging_for_one_customer_and_outside_the_channel(live: tuple[Harness, int]) -> None:
    harness, _ = live
    _command(harness, "nobody at all", "C0FINALERTS")
    none = str(wait_for(lambda: harness.recorder.responses(), timeout=30)[0]["payload"])
    assert "No open invoices for customers matching “nobody at all”" in none
    _command(harness, "acme", "C0GENERAL")  # a channel closebot isn't in
    answers = wait_for(lambda: harness.recorder.responses()[2:], timeout=30)
    said = " ".join(str(a["payload"]) for a in harness.recorder.responses()[1:])
    assert "Acme" in said and "Invite closebot to this channel" in said, answers
    assert harness.recorder.files() == []
