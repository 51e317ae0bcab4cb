""""Mark delivered" on a deal's /deal-trace answer, through signed HTTP over the real pipeline
(emulated Salesforce and Stripe, the embedded ledger, RECOGNIZE_ON_DELIVERY on), with
DELIVERY_MARKERS naming one person by email.

By hand, the seed's Acme deal synced on day S: Implementation Services USD 20,000.00 (one-time,
waits for its delivery) and Platform Subscription USD 100,000.00 over 10 months, billed annually
up front: one invoice of USD 120,000.00. Dr AR 120,000.00 / Cr Deferred Revenue 120,000.00;
the platform's first period ends a month after S, so nothing is recognized on S.
- A stranger's click: refused in an ephemeral message, audited, the books unchanged.
- The marker's click: delivered on S (audited); undo puts it back (audited); delivered again,
  the revenue job recognizes it dated S: Dr Deferred 20,000.00 / Cr Services Revenue 20,000.00.
  Trial balance: AR 120,000.00 Dr; Deferred 100,000.00, Services 20,000.00 Cr (sums to zero).
- After that an undo is refused: the revenue is recognized (a credit memo would correct it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import recognize_revenue, sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.tables import AuditEntry
from sync.ledger import Ledger
from tests.handlers.conftest import Harness, pipeline_settings, start, wait_for

IMPL = "Implementation Services"
MARKER, STRANGER = "UREQUEST1", "USTRANGER"


@pytest.fixture(params=["urequest1@example.com"])
def live(request: pytest.FixtureRequest, recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, Any, str]]:
    with SandboxStack(slack=False) as stack:
        settings = pipeline_settings(recorder, db_url, stack).model_copy(update={
            "recognize_on_delivery": True, "delivery_markers": request.param})
        runtime = build_runtime(settings, sessions)
        opportunity = BookSeeder(stack.salesforce).seed(demo_deals()[0])
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, runtime, opportunity


def _trace(harness: Harness) -> dict[str, Any]:
    channel = "C0FINALERTS"
    form = {"command": "/deal-trace", "text": "Acme", "user_id": MARKER, "user_name": "u",
            "team_id": "T0CLOSEBOT", "channel_id": channel, "trigger_id": "1.2.tr",
            "response_url": harness.recorder.response_url(channel=channel),
            "api_app_id": "A0CLOSEBOT", "token": "legacy"}
    before = len(harness.recorder.responses())
    assert harness.slack.post(urlencode(form)).status_code == 200
    return wait_for(lambda: harness.recorder.responses()[before:], timeout=30)[0]


def _click(harness: Harness, action: str, value: str, user: str) -> str:
    before = len(harness.recorder.responses())
    assert harness.slack.click(action, value, user=user).status_code == 200
    return str(wait_for(lambda: harness.recorder.responses()[before:], timeout=30)[0]["payload"])


def _books(harness: Harness) -> dict[str, int]:
    return Ledger(harness.sessions).trial_balance("USD")


def _audit(harness: Harness) -> list[tuple[str, str]]:
    with harness.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("revenue.deliv%"))
                               .order_by(AuditEntry.id))
        return [(r.action, r.actor) for r in rows]


def test_mark_delivered_from_slack_refuses_a_stranger_and_can_be_undone(
        live: tuple[Harness, Any, str]) -> None:
    harness, runtime, opportunity = live
    opening = _books(harness)
    assert sorted(opening.values()) == [-12_000_000, 12_000_000]  # AR Dr / Deferred Cr
    trace = str(_trace(harness)["payload"])
    assert f"*{IMPL}* (USD 20,000.00) waits for its delivery" in trace
    assert "delivery.mark" in trace and "Mark delivered" in trace
    value = json.dumps([opportunity, IMPL])

    refused = _click(harness, "delivery.mark", value, STRANGER)
    assert "You may not mark deliveries" in refused and f"<@{MARKER}>" in refused
    assert "ephemeral" in refused and "Traceback" not in refused
    assert _books(harness) == opening

    done = _click(harness, "delivery.mark", value, MARKER)
    assert f"{IMPL}: delivered on" in done and f"marked by <@{MARKER}>" in done
    assert "USD 20,000.00 is recognized on that day" in done
    assert "delivery.undo" in str(_trace(harness)["payload"])
    undone = _click(harness, "delivery.undo", value, MARKER)
    assert f"{IMPL}: delivery undone by <@{MARKER}>" in undone
    assert recognize_revenue(runtime)["recognized"] == 0  # back to waiting: nothing due
    assert _books(harness) == opening

    _click(harness, "delivery.mark", value, MARKER)
    assert recognize_revenue(runtime)["recognized"] == 1
    books = _books(harness)
    assert sorted(books.values()) == [-10_000_000, -2_000_000, 12_000_000]
    assert sum(books.values()) == 0
    late = _click(harness, "delivery.undo", value, MARKER)
    assert "its delivery can't be changed any more" in late and "Nothing was changed" in late
    assert _audit(harness) == [
        ("revenue.delivery_refused", STRANGER), ("revenue.delivered", MARKER),
        ("revenue.delivery_undone", MARKER), ("revenue.delivered", MARKER)]


@pytest.mark.parametrize("live", [""], indirect=True)
def test_without_delivery_markers_nobody_marks_from_slack(live: tuple[Harness, Any, str]
                                                          ) -> None:
    harness, _, opportunity = live
    opening = _books(harness)
    refused = _click(harness, "delivery.mark", json.dumps([opportunity, IMPL]), MARKER)
    assert "Nobody may mark deliveries from Slack yet: set DELIVERY_MARKERS" in refused
    assert _books(harness) == opening
    assert _audit(harness) == [("revenue.delivery_refused", MARKER)]


@pytest.fixture
def milestones(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
               ) -> Iterator[tuple[Harness, Any, str]]:
    """The Acme deal with Milestones "30/30/40" on its implementation line, before its sync."""
    with SandboxStack(slack=False) as stack:
        settings = pipeline_settings(recorder, db_url, stack).model_copy(update={
            "recognize_on_delivery": True, "delivery_markers": "urequest1@example.com"})
        runtime = build_runtime(settings, sessions)
        opportunity = BookSeeder(stack.salesforce).seed(demo_deals()[0])
        (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
                   if r["OpportunityId"] == opportunity
                   and stack.salesforce.get("Product2", r["Product2Id"])["Name"] == IMPL]
        stack.salesforce.update("OpportunityLineItem", line, {"Milestones__c": "30/30/40"})
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, runtime, opportunity


def test_mark_delivered_reaches_the_next_milestone(
        milestones: tuple[Harness, Any, str]) -> None:
    """USD 20,000.00 in milestones of 30/30/40: 6,000.00, 6,000.00, 8,000.00. One click marks
    the first reached today and the revenue job recognizes its 6,000.00; the trace then offers
    the second. Books: AR 120,000.00 Dr; Deferred 114,000.00, Services 6,000.00 Cr."""
    harness, runtime, opportunity = milestones
    trace = str(_trace(harness)["payload"])
    assert f"*{IMPL}, milestone 1 of 3* (USD 6,000.00) waits for its delivery" in trace
    assert "milestone 2 of 3" not in trace
    done = _click(harness, "delivery.mark", json.dumps([opportunity, IMPL]), MARKER)
    assert f"{IMPL}, milestone 1 of 3: delivered on" in done
    assert "USD 6,000.00 is recognized on that day" in done
    assert recognize_revenue(runtime)["recognized"] == 1
    assert sorted(_books(harness).values()) == [-11_400_000, -600_000, 12_000_000]
    trace = str(_trace(harness)["payload"])
    assert f"*{IMPL}, milestone 2 of 3* (USD 6,000.00) waits for its delivery" in trace
