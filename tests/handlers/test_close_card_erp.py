"""The month-end close card on NetSuite and Sage Intacct, through signed Slack requests.

The seed deal starts on S, the 1st of a month (P1): Implementation Services USD 20,000.00
(point in time, on S) + Platform Subscription USD 100,000.00 (USD 10,000.00 a month for 10
months), one invoice of USD 120,000.00 up front, posted to the ERP; closebot keeps the schedules
in its revenue subledger. On P2's first day the card asks to close P1. By hand:

    due in P1      USD 30,000.00 over 2 schedule lines (implementation 20,000 on S,
                   subscription month 1 10,000 on P1's last day)
    ERP entries    REVENUE_JOURNAL_MAX_LINES=2 leaves one obligation line per entry beside the
                   Deferred Revenue debit, so the month is two entries:
                   closebot-rev-P1-USD         Dr 2100 20,000.00 / Cr 4100 20,000.00
                   closebot-rev-P1-USD-part-2  Dr 2100 10,000.00 / Cr 4000 10,000.00
                   together Dr Deferred 30,000.00 / Cr revenue 30,000.00 (the CLI's close of the
                   same month, tests/integration/test_revenue_close_erps.py)
    roll-forward   Sage Intacct: 0 + billings 120,000.00 - credits 0 - recognized 30,000.00
                   = closing 90,000.00, its Deferred Revenue on P1's last day (ties).
                   NetSuite's Deferred Revenue is not read.

(Salesforce, Stripe's invoice and the ERP's invoice are each 120,000.00, as
tests/integration/test_revenue_close_erps.py ties them out; here 30,000.00 of it becomes revenue.)
The second approver's click posts both; the scheduled run afterwards opens no card and posts
nothing. An ERP that times out at the second approval, after part 1 and before part 2, leaves the
period open (said in the thread); the next scheduled run finds part 1 and posts part 2, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Approval
from sync.errors import TransientError
from sync.ledger.subledger_close import ErpPeriodCloses
from sync.ops import month_end
from sync.ports_revenue import DeferredMoves, RevenueJournal
from tests.handlers.conftest import APPROVERS, Harness, start, wait_for
from tests.handlers.erp_slack import seeded
from tests.integration.books import advance_months, dollars

K = 100_000  # USD 1,000.00 in cents


@pytest.fixture
def closing(erp_stack: SandboxStack, recorder: SlackRecorder, db_url: str,
            sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, str]]:
    """The seed deal synced to the ERP from S; the clock on P2's first day; the Slack app."""
    settings, rt, _, s = seeded(erp_stack, recorder, db_url, sessions,
                                revenue_journal_max_lines=2)
    advance_months(erp_stack, s, 1)
    for harness in start(settings, sessions, recorder):
        harness.surface.deps.now = rt.now
        yield harness, f"{s:%Y-%m}"


def _entries(stack: SandboxStack) -> dict[str, tuple[int, dict[str, int]]]:
    """closebot's revenue entries in the ERP: external ID -> (the Deferred debit, credits per
    revenue account), cents."""
    found: dict[str, tuple[int, dict[str, int]]] = {}
    if stack.netsuite is not None:
        for entry in stack.netsuite.records("journalEntry"):
            credits: dict[str, int] = {}
            debit = 0
            for line in entry["line"]["items"]:
                account = str(line["account"]["refName"]).split()[0]
                if line.get("debit"):
                    debit += dollars(line["debit"])
                else:
                    credits[account] = credits.get(account, 0) + dollars(line["credit"])
            found[str(entry["externalId"])] = (debit, credits)
        return found
    assert stack.intacct is not None
    for entry in stack.intacct.records("general-ledger/journal-entry"):
        credits, debit = {}, 0
        for line in entry["lines"]:
            amount = dollars(Decimal(str(line["txnAmount"])))
            if line["txnType"] == "debit":
                debit += amount
            else:
                account = str(line["glAccount"]["id"])
                credits[account] = credits.get(account, 0) + amount
        found[str(entry["referenceNumber"])] = (debit, credits)
    return found


def _open_card(harness: Harness, period: str) -> tuple[dict[str, Any], str]:
    closes = harness.surface.closes
    assert isinstance(closes, ErpPeriodCloses)
    run = month_end.run(harness.surface.deps, closes, today=harness.surface.today())
    assert run.opened == period and run.closed == ()
    harness.surface.flush()
    (card,) = harness.recorder.messages("C0APPROVALS")
    return card, card["blocks"][-1]["elements"][0]["value"]


def _ref(harness: Harness) -> str:
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval).order_by(Approval.id.desc()))
        return f'{{"id":{ap.id},"v":{ap.version}}}'


def _click(harness: Harness, card: dict[str, Any], user: str, *, answered: bool = True) -> None:
    """Approve as `user`; the first approval is answered to the clicker (the second's answer is
    the close in the card's thread)."""
    before = len(harness.recorder.responses())
    r = harness.slack.click("approval.approve", _ref(harness), user=user,
                            message=("C0APPROVALS", card["ts"]))
    assert r.status_code == 200
    if answered:
        wait_for(lambda: harness.recorder.responses()[before:], timeout=15)


def _thread(harness: Harness, card: dict[str, Any], words: str) -> str:
    said = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                             if words in m["text"]], timeout=20)
    assert said[0]["thread_ts"] == card["ts"]
    return str(said[0]["text"])


def test_two_approvers_post_the_months_revenue_to_the_erp(
        closing: tuple[Harness, str], erp_stack: SandboxStack) -> None:
    harness, p1 = closing
    stack = erp_stack
    closes = harness.surface.closes
    assert isinstance(closes, ErpPeriodCloses)
    card, _ = _open_card(harness, p1)
    assert "USD 30,000.00 (2 schedule lines)" in str(card["blocks"])

    _click(harness, card, APPROVERS[0])
    assert not closes.is_closed(p1) and _entries(stack) == {}
    _click(harness, card, APPROVERS[1], answered=False)
    text = _thread(harness, card, "is closed")

    key = f"closebot-rev-{p1}-USD"
    assert _entries(stack) == {key: (20 * K, {"4100": 20 * K}),
                               f"{key}-part-2": (10 * K, {"4000": 10 * K})}
    assert f"{APPROVERS[0]} and {APPROVERS[1]}" in text
    assert f"Journal entry {key}: USD 20,000.00 over 1 obligation lines" in text
    assert f"Journal entry {key}-part-2: USD 10,000.00 over 1 obligation lines" in text
    erp = "Sage Intacct" if stack.intacct is not None else "NetSuite"
    assert ("opening USD 0.00 + billings USD 120,000.00 - credits USD 0.00 - recognized "
            f"USD 30,000.00 = closing USD 90,000.00, ties to the {erp} general ledger") in text
    assert closes.is_closed(p1)

    # The scheduled run after the close: no new card, nothing posted again.
    again = month_end.run(harness.surface.deps, closes, today=harness.surface.today())
    assert again == month_end.CloseRun(None, ())
    assert len(_entries(stack)) == 2
    # `closebot close` of the same month splits it the same way and finds both parts.
    rerun = closes.close_period(period=p1, by="controller", today=harness.surface.today())
    assert rerun.already_closed and rerun.posted == 0
    assert [(p.external_id, p.amount_minor) for p in rerun.postings] == [
        (key, 20 * K), (f"{key}-part-2", 10 * K)]
    assert _entries(stack) == {key: (20 * K, {"4100": 20 * K}),
                               f"{key}-part-2": (10 * K, {"4000": 10 * K})}


class _Down:
    """The ERP's journal timing out on its second posting (part 2), after the subledger has
    closed and part 1 has reached it."""

    def __init__(self, journal: RevenueJournal) -> None:
        self.journal, self.name, self.calls = journal, journal.name, 0

    def post_revenue(self, **posting: Any) -> str:
        self.calls += 1
        if self.calls == 2:
            raise TransientError("the ERP timed out", system=self.name)
        return self.journal.post_revenue(**posting)

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves | None:
        return self.journal.deferred_moves(currency, start, end)


def test_an_erp_down_at_approval_is_closed_by_the_next_run(
        closing: tuple[Harness, str], erp_stack: SandboxStack) -> None:
    harness, p1 = closing
    closes = harness.surface.closes
    assert isinstance(closes, ErpPeriodCloses)
    closes.journal = _Down(closes.journal)
    card, _ = _open_card(harness, p1)
    _click(harness, card, APPROVERS[0])
    _click(harness, card, APPROVERS[1], answered=False)
    assert "could not be closed yet: the ERP timed out" in _thread(harness, card, "could not")
    # The subledger closed and part 1 reached the ERP, part 2 did not: the period is not
    # closed, and what it owes the ERP is still the month's 30,000.00 (part 1 is found again).
    key = f"closebot-rev-{p1}-USD"
    assert not closes.is_closed(p1)
    assert _entries(erp_stack) == {key: (20 * K, {"4100": 20 * K})}
    assert [(d.amount_minor, d.entries) for d in closes.revenue_due(
        through=harness.surface.today() - timedelta(days=1))] == [(30 * K, 2)]

    run = month_end.run(harness.surface.deps, closes, today=harness.surface.today())
    assert [r.period for r in run.closed] == [p1] and run.opened is None
    assert closes.is_closed(p1)
    assert _entries(erp_stack) == {key: (20 * K, {"4100": 20 * K}),
                                   f"{key}-part-2": (10 * K, {"4000": 10 * K})}
    assert month_end.run(harness.surface.deps, closes,
                         today=harness.surface.today()) == month_end.CloseRun(None, ())
    assert len(_entries(erp_stack)) == 2
