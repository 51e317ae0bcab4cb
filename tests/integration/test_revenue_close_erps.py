"""Worked example: month-end close posts revenue on every ERP, the same to the cent.

The seed deal starts on S, the 1st of a month (P1; P2 is the next): $20,000 implementation
(point in time, on S) + $100,000 platform subscription ($10,000 a month for 10 months), one
invoice of $120,000 up front. Prices are at their SSP, so allocation moves nothing. By hand:

    close P1   Dr Deferred 30,000 / Cr Services revenue 20,000, Cr Subscription revenue 10,000
    close P2   Dr Deferred 10,000 / Cr Subscription revenue 10,000
    after P2   Revenue 40,000 (services 20,000, subscription 20,000); Deferred 120,000 - 40,000
               = 80,000

On the ledger the close posts its own entries. On NetSuite and Sage Intacct closebot keeps the
schedules in its revenue subledger and posts each month as one journal entry,
`closebot-rev-<period>-USD`, Dr Deferred Revenue (2100) / Cr 4100 and 4000 with a line per
obligation. The invoice booked the $120,000 to revenue-to-be (the ERP's deferred revenue), so
deferred there is the invoice's revenue less the journal entries. Closing again posts nothing.
The ERP had closed P2 itself before closebot's close: P2's entry is dated P3's first day.

Deferred-revenue roll-forward (opening + billings - credits - recognized = closing):
    P1   0 + 120,000 - 0 - 30,000 = 90,000; the ERP's Deferred Revenue on P1's last day 90,000
    P2   90,000 + 0 - 0 - 10,000 = 80,000; the ledger 80,000; NetSuite and Sage Intacct
         90,000, because P2's entry is dated in P3 (the 10,000 difference is the moved entry)
NetSuite books the invoice's lines to Deferred Revenue because closebot's items carry it as
their deferred revenue account; its balance is read from `transactionaccountingline`.

With RECOGNIZE_ON_DELIVERY the implementation waits for its delivery, marked on day 45 (S + 44
days, always in P2):

    close P1   Dr Deferred 10,000 / Cr Subscription revenue 10,000
    close P2   Dr Deferred 30,000 / Cr Services revenue 20,000, Cr Subscription revenue 10,000
    after P2   the same 40,000 / 80,000; roll-forward P1 recognizes 10,000 (closing 110,000),
               P2 30,000 (closing 80,000; NetSuite and Sage Intacct 110,000)
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime, make_revenue_journal
from sandbox.stack import SandboxStack
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.errors import TransientError
from sync.ledger import Ledger
from sync.ledger.close import RollForward
from sync.ledger.subledger_close import close_on_erp
from sync.ports_revenue import DeferredMoves, RevenueJournal
from tests.integration.books import (
    K,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture
    deal_status,
    dollars,
    ia_records,
    ledger_books,
    ns_records,
    on_ledger,
    seed_acme,
    today,
)
from tests.integration.conftest import make_settings
from tests.integration.erp_books import erp_books

JOURNAL = "general-ledger/journal-entry"


def _close(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session], period: str
           ) -> tuple[int, tuple[RollForward, ...]]:
    """Close `period` as `closebot close` does: the revenue rows it released, and the
    deferred-revenue roll-forward (against the ERP's Deferred Revenue where it is read)."""
    ledger = Ledger(sessions)
    if on_ledger(stack):
        report = ledger.close_period(period=period, by="controller", today=today(stack))
        return report.posted, report.roll_forward
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    done = close_on_erp(ledger, journal, period=period, by="controller", today=today(stack))
    return done.close.posted, done.roll_forward


def _erp_revenue(stack: SandboxStack) -> dict[str, int]:
    """Credits to each revenue account (and the debit to 2100) in closebot's revenue journal
    entries, as the ERP holds them, in cents."""
    out: dict[str, int] = {}
    if stack.netsuite is not None:
        for entry in ns_records(stack, "journalEntry"):
            if not str(entry.get("externalId", "")).startswith("closebot-rev-"):
                continue
            for line in entry["line"]["items"]:
                account = str(line["account"]["refName"]).split()[0]
                amount = dollars(line.get("credit") or 0) - dollars(line.get("debit") or 0)
                out[account] = out.get(account, 0) + amount
    else:
        for entry in ia_records(stack, JOURNAL):
            if not str(entry.get("referenceNumber", "")).startswith("closebot-rev-"):
                continue
            for line in entry["lines"]:
                sign = 1 if line["txnType"] == "credit" else -1
                out[str(line["glAccount"]["id"])] = out.get(str(line["glAccount"]["id"]), 0) \
                    + sign * dollars(Decimal(str(line["txnAmount"])))
    return out


def advance_to(start: date, months: int) -> str:
    return add_months(start, months).isoformat()


def _p2_entry(stack: SandboxStack, period: str) -> tuple[str, bool]:
    """(the day it is dated, whether its memo names the closed period) of P2's entry."""
    key = f"closebot-rev-{period}-USD"
    if stack.netsuite is not None:
        [entry] = ns_records(stack, "journalEntry", key)
        return str(entry["tranDate"]), f"closed {period}" in entry["memo"]
    [entry] = ia_records(stack, JOURNAL, key)
    return str(entry["postingDate"]), f"closed {period}" in entry["description"]


def _entries(stack: SandboxStack) -> int:
    if stack.netsuite is not None:
        return len(ns_records(stack, "journalEntry"))
    return len(ia_records(stack, JOURNAL))


@pytest.mark.parametrize("on_delivery", [False, True], ids=["at-start", "delivered-day-45"])
def test_close_two_months_posts_the_same_revenue_on_every_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    db_url: str, on_delivery: bool,
) -> None:
    stack, rt = books_stack, books_rt
    if on_delivery:
        rt = build_runtime(make_settings(stack, db_url, recognize_on_delivery=True), sessions)
        rt.now = books_rt.now
    now = today(stack)
    start = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    advance_months(stack, start, 0)  # midnight of S
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    p1, p2 = f"{start:%Y-%m}", f"{(start + timedelta(days=32)):%Y-%m}"
    advance_months(stack, start, 2)
    assert today(stack) == date(start.year + (start.month + 1) // 12,
                                (start.month + 1) % 12 + 1, 1)

    # P1: the implementation (unless it waits for delivery) and subscription month 1.
    p1_rows, p1_roll = _close(stack, rt, sessions, p1)
    assert p1_rows == (1 if on_delivery else 2)
    if on_delivery:
        delivered = Ledger(sessions).mark_delivered(
            opportunity_id=opp, product="Implementation Services", on=start + timedelta(days=44),
            by="pm@acme.example", today=today(stack))
        assert delivered.amount_minor == 20 * K
    erp = stack.netsuite or stack.intacct
    if erp is not None:
        erp.close_period(p2)  # the controller closed P2 in the ERP first
    p2_rows, p2_roll = _close(stack, rt, sessions, p2)
    assert p2_rows == (2 if on_delivery else 1)

    # Deferred revenue rolled forward. NetSuite's and Sage Intacct's general ledgers hold the
    # invoice's 120,000 and the revenue entries, and P2's entry, dated in P3 because the ERP
    # had closed P2, is the difference there.
    first = 10 * K if on_delivery else 30 * K
    assert p1_roll == (RollForward("USD", 0, 120 * K, 0, first, 120 * K - first,
                                   120 * K - first),)
    in_erp = 80 * K if on_ledger(stack) else 120 * K - first
    assert p2_roll == (RollForward("USD", 120 * K - first, 0, 0, 40 * K - first, 80 * K,
                                   in_erp),)

    if on_ledger(stack):
        books = ledger_books(sessions)
        assert (books["Services revenue"], books["Subscription revenue"]) == (20 * K, 20 * K)
        assert books["Deferred revenue"] == 80 * K
    else:
        assert _erp_revenue(stack) == {"2100": -40 * K, "4100": 20 * K, "4000": 20 * K}
        # P2's entry was refused on P2's last day, so it is dated the first day of P3 and
        # says why; the revenue in it is still P2's.
        assert _p2_entry(stack, p2) == (advance_to(start, 2), True)
        # The invoice's revenue, all deferred until released, less what the closes released.
        assert erp_books(stack, sessions, opp)["Revenue"] - 40 * K == 80 * K
        # Each month is one entry by external ID: closing again finds them.
        posted = _entries(stack)
        assert _close(stack, rt, sessions, p1) == (0, p1_roll)
        assert _close(stack, rt, sessions, p2) == (0, p2_roll)
        assert _entries(stack) == posted == 2
        assert _erp_revenue(stack) == {"2100": -40 * K, "4100": 20 * K, "4000": 20 * K}


class _Unavailable:
    """The ERP's journal, down for the first posting (a timeout after the subledger's close
    committed, as a crash there would leave it)."""

    def __init__(self, journal: RevenueJournal) -> None:
        self.journal, self.name, self.failed = journal, journal.name, False

    def post_revenue(self, **posting: Any) -> str:
        if not self.failed:
            self.failed = True
            raise TransientError("the ERP timed out", system=self.name)
        return self.journal.post_revenue(**posting)

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves | None:
        return self.journal.deferred_moves(currency, start, end)


def test_a_close_interrupted_before_the_erp_posts_once_when_run_again(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """P1 of the seed deal from S (the 1st): 30,000 released. The ERP is down when the
    subledger has closed: the close fails in one line; run again, it finds P1 closed and posts
    the one entry of 30,000, and a third run posts nothing."""
    stack, rt = books_stack, books_rt
    if on_ledger(stack):
        pytest.skip("the ledger posts its revenue in the close's own transaction")
    start = (today(stack).replace(day=28) + timedelta(days=4)).replace(day=1)
    advance_months(stack, start, 0)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    advance_months(stack, start, 1)
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    flaky, period = _Unavailable(journal), f"{start:%Y-%m}"
    with pytest.raises(TransientError):
        close_on_erp(Ledger(sessions), flaky, period=period, by="controller", today=today(stack))
    assert _entries(stack) == 0
    again = close_on_erp(Ledger(sessions), flaky, period=period, by="controller",
                         today=today(stack))
    assert again.close.already_closed and again.close.posted == 0
    assert [p.amount_minor for p in again.postings] == [30 * K]
    assert _entries(stack) == 1
    close_on_erp(Ledger(sessions), flaky, period=period, by="controller", today=today(stack))
    assert _entries(stack) == 1
    assert _erp_revenue(stack) == {"2100": -30 * K, "4100": 20 * K, "4000": 10 * K}
