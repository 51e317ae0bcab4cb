""""Mark delivered" in Slack on NetSuite and Sage Intacct, through signed HTTP requests; the
month-end close then posts the delivered revenue to the ERP as a journal entry.

The seed deal starts on S, the 1st of a month (P1; P2 is the next), with RECOGNIZE_ON_DELIVERY
on and DELIVERY_MARKERS naming one person by email: Implementation Services USD 20,000.00
(point in time, waits for its delivery) + Platform Subscription USD 100,000.00 (USD 10,000.00
a month for 10 months), one invoice of USD 120,000.00 up front, posted to the ERP. closebot
keeps the schedules in its revenue subledger. By hand:

    close P1      closebot-rev-P1-USD  Dr 2100 10,000.00 / Cr 4000 10,000.00 (subscription)
    day D = P2's 15th: a stranger's click is refused (ephemeral, audited), nothing moves;
                  the marker's click delivers the implementation on D, its undo puts it back
                  to waiting, a second click delivers it on D again (each audited)
    close P2      closebot-rev-P2-USD  Dr 2100 30,000.00 / Cr 4100 20,000.00 (implementation,
                  recognized on D), Cr 4000 10,000.00 (subscription month 2)
    after P2      revenue 40,000.00 in the ERP's journal entries; Deferred debited 40,000.00
    after close   an undo is refused: the revenue is recognized and posted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import AuditEntry
from sync.ledger import Ledger
from tests.handlers.conftest import Harness, start, wait_for
from tests.handlers.erp_slack import seeded
from tests.handlers.test_close_card_erp import _entries
from tests.integration.books import K, advance, advance_months

IMPL = "Implementation Services"
MARKER, STRANGER = "UREQUEST1", "USTRANGER"


@pytest.fixture
def delivering(erp_stack: SandboxStack, recorder: SlackRecorder, db_url: str,
               sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, str, date]]:
    """The seed deal synced to the ERP from S, with the Slack app; the clock on S."""
    settings, rt, opp, s = seeded(erp_stack, recorder, db_url, sessions,
                                  recognize_on_delivery=True,
                                  delivery_markers="urequest1@example.com")
    for harness in start(settings, sessions, recorder, rt):
        harness.surface.deps.now = rt.now
        yield harness, opp, s


def _click(harness: Harness, action: str, opp: str, user: str) -> str:
    before = len(harness.recorder.responses())
    value = json.dumps([opp, IMPL])
    assert harness.slack.click(action, value, user=user).status_code == 200
    return str(wait_for(lambda: harness.recorder.responses()[before:], timeout=30)[0]["payload"])


def _implementation(harness: Harness, opp: str) -> date | None:
    """The implementation's delivery day in the subledger (None: it waits)."""
    (found,) = [d for d in Ledger(harness.sessions).deliverables(opp) if d.product == IMPL]
    return found.on


def _audit(harness: Harness) -> list[tuple[str, str]]:
    with transaction(harness.sessions) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("revenue.deliv%"))
                               .order_by(AuditEntry.id))
        return [(r.action, r.actor) for r in rows]


def _close(harness: Harness, period: str) -> tuple[int, int]:
    closes = harness.surface.closes
    assert closes is not None
    done = closes.close_period(period=period, by="controller", today=harness.surface.today())
    return done.posted, sum(p.amount_minor for p in done.postings)


def test_mark_delivered_in_slack_is_posted_to_the_erp_at_close(
        delivering: tuple[Harness, str, date], erp_stack: SandboxStack) -> None:
    harness, opp, s = delivering
    p1, p2 = f"{s:%Y-%m}", f"{s + timedelta(days=32):%Y-%m}"
    advance_months(erp_stack, s, 1)
    assert _close(harness, p1) == (1, 10 * K)  # the subscription's first month only
    advance(erp_stack, days=14)
    day = harness.surface.today()
    assert f"{day:%Y-%m}" == p2 and day.day == 15

    refused = _click(harness, "delivery.mark", opp, STRANGER)
    assert "You may not mark deliveries" in refused and f"<@{MARKER}>" in refused
    assert "ephemeral" in refused and "Traceback" not in refused
    assert _implementation(harness, opp) is None

    done = _click(harness, "delivery.mark", opp, MARKER)
    assert f"{IMPL}: delivered on" in done and "USD 20,000.00 is recognized on that day" in done
    assert _implementation(harness, opp) == day
    undone = _click(harness, "delivery.undo", opp, MARKER)
    assert f"{IMPL}: delivery undone by <@{MARKER}>" in undone
    assert _implementation(harness, opp) is None
    _click(harness, "delivery.mark", opp, MARKER)
    assert _implementation(harness, opp) == day

    advance_months(erp_stack, s, 2)
    assert _close(harness, p2) == (2, 30 * K)
    assert _entries(erp_stack) == {
        f"closebot-rev-{p1}-USD": (10 * K, {"4000": 10 * K}),
        f"closebot-rev-{p2}-USD": (30 * K, {"4100": 20 * K, "4000": 10 * K})}
    posted = _entries(erp_stack)
    late = _click(harness, "delivery.undo", opp, MARKER)
    assert "its delivery can't be changed any more" in late and "Nothing was changed" in late
    assert IMPL not in [d.product for d in Ledger(harness.sessions).deliverables(opp)]
    assert _close(harness, p2) == (0, 30 * K) and _entries(erp_stack) == posted
    assert _audit(harness) == [
        ("revenue.delivery_refused", STRANGER), ("revenue.delivered", MARKER),
        ("revenue.delivery_undone", MARKER), ("revenue.delivered", MARKER)]


def test_the_deal_trace_offers_mark_delivered_on_the_erp(
        delivering: tuple[Harness, str, date]) -> None:
    harness, _, _ = delivering
    before = len(harness.recorder.responses())
    assert harness.slack.command("/deal-trace", "Acme", user=MARKER).status_code == 200
    answer: Any = wait_for(lambda: harness.recorder.responses()[before:], timeout=30)[0]
    trace = str(answer["payload"])
    assert f"*{IMPL}* (USD 20,000.00) waits for its delivery" in trace
    assert "delivery.mark" in trace and "Mark delivered" in trace
