"""The month-end close card, through signed Slack requests against the embedded ledger.

By hand, the seed deal (tests/unit/test_ledger_worked_examples.py): invoice ACME-0001 of
USD 120,000.00 issued 1 Jan 2024, Dr AR 120,000.00 / Cr Deferred Revenue 120,000.00. The
platform releases USD 10,000.00 a month, January's on 31 Jan; the implementation waits for its
delivery on 15 Feb. So on 3 Feb 2024 closing January recognizes USD 10,000.00 (1 schedule line):
Dr Deferred 10,000.00 / Cr Subscription Revenue 10,000.00, and the roll-forward reads
opening 0 + billings 120,000.00 - credits 0 - recognized 10,000.00 = closing 110,000.00, equal to
the Deferred Revenue balance on 31 Jan.
- The card asks for two different approvers; a stranger is refused; one approval leaves the
  period open; the same approver twice is refused; the second approver closes it.
- A rejection leaves the period open; the next run opens a new card.
- Runs after the close open no card and post nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from storage.db import transaction
from storage.ledger import LedgerJournalEntry
from storage.tables import Approval, AuditEntry
from sync.ledger import Ledger
from sync.ledger.accounts import DEFERRED_REVENUE, SUBSCRIPTION_REVENUE
from sync.ops import month_end
from tests.handlers.conftest import APPROVERS, Harness, wait_for
from tests.unit.test_ledger_worked_examples import invoice, seed_deal

K = 100_000
TODAY = date(2024, 2, 3)


def _opened(harness: Harness) -> tuple[dict[str, Any], str]:
    ledger = Ledger(harness.sessions)
    seed_deal(ledger)
    invoice(ledger)
    harness.surface.deps.now = lambda: datetime(2024, 2, 3, 9, tzinfo=UTC)
    assert harness.surface.closes is not None
    run = month_end.run(harness.surface.deps, harness.surface.closes, today=TODAY)
    assert run.opened == "2024-01" and run.closed == ()
    harness.surface.flush()
    (card,) = harness.recorder.messages("C0APPROVALS")
    return card, card["blocks"][-1]["elements"][0]["value"]


def _click(harness: Harness, card: dict[str, Any], ref: str, user: str) -> str:
    before = len(harness.recorder.responses())
    r = harness.slack.click("approval.approve", ref, user=user,
                            message=("C0APPROVALS", card["ts"]))
    assert r.status_code == 200
    found = wait_for(lambda: harness.recorder.responses()[before:] or [{"payload": ""}])
    return str(found[0]["payload"])


def _ref(harness: Harness) -> str:
    with transaction(harness.sessions) as s:
        ap = s.scalar(select(Approval).order_by(Approval.id.desc()))
        return f'{{"id":{ap.id},"v":{ap.version}}}'


def test_two_people_close_the_month(harness: Harness) -> None:
    card, ref = _opened(harness)
    text = str(card["blocks"])
    assert "Close the books for January 2024" in text
    assert "USD 10,000.00 (1 schedule lines)" in text and "Needs 2 different approvers" in text
    closes = harness.surface.closes
    assert closes is not None

    assert "Only configured finance approvers" in _click(harness, card, ref, "USTRANGER")
    first = _click(harness, card, ref, APPROVERS[0])
    assert "needs a second approver, someone other than you" in first
    assert not closes.is_closed("2024-01")
    assert "already decided" in _click(harness, card, _ref(harness), APPROVERS[0])
    assert not closes.is_closed("2024-01")

    harness.slack.click("approval.approve", _ref(harness), user=APPROVERS[1],
                        message=("C0APPROVALS", card["ts"]))
    wait_for(lambda: closes.is_closed("2024-01"), timeout=15)
    balances = Ledger(harness.sessions).trial_balance("USD")
    assert balances[DEFERRED_REVENUE] == -110 * K and balances[SUBSCRIPTION_REVENUE] == -10 * K
    said = wait_for(lambda: [m for m in harness.recorder.messages("C0APPROVALS")
                             if "is closed" in m["text"]], timeout=15)
    assert said[0]["thread_ts"] == card["ts"]
    assert f"{APPROVERS[0]} and {APPROVERS[1]}" in said[0]["text"]
    assert "closing USD 110,000.00, ties to the general ledger" in said[0]["text"]
    with transaction(harness.sessions) as s:
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.subject.in_(["period:2024-01", "approval:1"])).order_by(AuditEntry.id)))
    assert actions == ["close.requested", "approval.first_approval", "approval.approved",
                       "ledger.period_closed", "close.applied"]

    again = month_end.run(harness.surface.deps, closes, today=TODAY)
    assert again == month_end.CloseRun(None, ())
    with transaction(harness.sessions) as s:
        assert s.scalar(select(func.count()).select_from(Approval)) == 1
        assert s.scalar(select(func.count()).where(
            LedgerJournalEntry.source_type == "revenue_schedule")) == 1


def test_a_rejected_close_leaves_the_month_open_and_asks_again(harness: Harness) -> None:
    _card, ref = _opened(harness)
    closes = harness.surface.closes
    assert closes is not None
    r = harness.slack.submit("approval.reject_modal", {"reason": "Accruals not in yet"},
                             user=APPROVERS[0], metadata=ref)
    assert r.status_code == 200
    with transaction(harness.sessions) as s:
        assert s.scalar(select(Approval.status)) == "rejected"
    assert not closes.is_closed("2024-01")
    run = month_end.run(harness.surface.deps, closes, today=TODAY)
    assert run.opened == "2024-01"
    with transaction(harness.sessions) as s:
        rows = s.execute(select(Approval.status, Approval.contract_version)
                         .order_by(Approval.id)).all()
    assert [tuple(r) for r in rows] == [("rejected", 0), ("pending", 1)]
