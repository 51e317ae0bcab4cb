"""`/closebot dry-run <deal>` through signed requests into the real Bolt app, over the real
pipeline's connectors (emulated Salesforce and Stripe, the embedded ledger): an ephemeral answer
listing each record per system, and nothing changed anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from tests.handlers.conftest import Harness, slack_settings, start, wait_for
from tests.integration import snapshots
from tests.integration.conftest import make_settings

SYSTEMS = ("salesforce_instance_url", "salesforce_access_token", "salesforce_api_version",
           "salesforce_ca_bundle", "stripe_api_key", "stripe_api_base")


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, SandboxStack, dict]]:
    with SandboxStack(slack=False) as stack:
        base = make_settings(stack, db_url)
        settings = slack_settings(recorder, db_url, **{k: getattr(base, k) for k in SYSTEMS})
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        demo = {d.account: d for d in demo_deals()}
        ids = {"acme": seeder.seed(demo["Acme Corp"])}
        sync_once(runtime)  # Acme is synced: closebot's database is not empty
        ids.update(globex=seeder.seed(demo["Globex"]), initech=seeder.seed(demo["Initech"]),
                   umbrella=seeder.seed(demo["Umbrella Health"]))
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, stack, ids


def _ask(harness: Harness, text: str) -> tuple[dict, dict]:
    seen = len(harness.recorder.responses())
    ack = harness.slack.command("/closebot", text)
    assert ack.status_code == 200
    answer = wait_for(lambda: harness.recorder.responses()[seen:], timeout=30)[0]["payload"]
    return ack.json(), answer


def _text(answer: dict) -> str:
    return answer["text"] + " ".join(str(b) for b in answer.get("blocks", []))


def test_dry_run_in_slack_lists_records_and_changes_nothing(live, db_url: str) -> None:
    harness, stack, ids = live
    before = snapshots.everything(stack, db_url)
    ack, answer = _ask(harness, "dry-run Umbrella - Seats 2026")
    assert ack["response_type"] == "ephemeral" and "Nothing will be changed" in ack["text"]
    assert answer["response_type"] == "ephemeral"
    body = _text(answer)
    assert answer["text"] == "Dry run: Umbrella - Seats 2026: would sync"
    assert "USD 120,000.00" in body and "Nothing was changed in any system" in body
    for system in ("*Stripe*", "*Ledger*", "*Salesforce*"):
        assert system in body
    assert "create subscription" in body and "USD 30,000.00" in body
    assert "Sync Status: Synced" in body
    _ask(harness, f"dry-run {ids['acme']}")
    assert snapshots.everything(stack, db_url) == before
    assert not harness.recorder.messages("C0ALERTS")  # no alert for what only might happen


def test_dry_run_in_slack_explains_validation_and_approval(live) -> None:
    harness, _, ids = live
    _, invalid = _ask(harness, f"dry-run {ids['globex']}")
    assert invalid["text"] == "Dry run: Globex - Renewal: fails validation"
    assert "Fix in Salesforce" in _text(invalid) and "Cadence" in _text(invalid)
    _, held = _ask(harness, "dry-run Initech - Expansion")
    body = _text(held)
    assert held["text"] == "Dry run: Initech - Expansion: needs approval"
    assert "35% off list" in body and "Once approved" in body


def test_dry_run_in_slack_usage_and_unknown_deal(live) -> None:
    harness, _, _ = live
    usage = harness.slack.command("/closebot", "dry-run").json()
    assert "Usage: `/closebot dry-run" in usage["text"]
    _, none = _ask(harness, "dry-run Nobody Industries")
    assert "No opportunity in Salesforce matches “Nobody Industries”" in none["text"]
    help_text = _text(harness.slack.command("/closebot", "help").json())
    assert "dry-run &lt;opportunity ID or name&gt;" in help_text  # as Slack wants it escaped
