"""A month of many obligations posted to NetSuite in entries it accepts.

By hand: 450 obligations released USD 1.00 each in November 2026, USD 450.00 in all. NetSuite
takes at most 200 lines in a journal entry (its help, "Limitations for Creating Transactions";
the emulator refuses more). With the default REVENUE_JOURNAL_MAX_LINES of 200, each entry is the
Deferred Revenue debit plus 199 credits:

    closebot-rev-2026-11-USD         Dr 2100 199.00 / Cr 4000 199 x 1.00
    closebot-rev-2026-11-USD-part-2  Dr 2100 199.00 / Cr 4000 199 x 1.00
    closebot-rev-2026-11-USD-part-3  Dr 2100  52.00 / Cr 4000  52 x 1.00
                                     199 + 199 + 52 = 450.00

Closing again finds the three and posts nothing. One entry of 451 lines is refused by NetSuite,
with its reason, and nothing is posted.

The subledger here is a stand-in that has released the 450 lines (the schedules themselves are
tests/integration/test_revenue_close_erps.py's); NetSuite is the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.wiring import make_erp, make_revenue_journal
from sandbox.stack import SandboxStack
from sync.errors import PermanentError
from sync.ledger.close import CloseReport
from sync.ledger.subledger_close import close_on_erp
from sync.ports_revenue import RevenueLine
from tests.integration.books import dollars
from tests.integration.conftest import make_settings

LINES = 450
START, END = date(2026, 11, 1), date(2026, 11, 30)


class _Released:
    """A subledger whose November close has released LINES obligations of USD 1.00."""

    def close_period(self, *, period: str, by: str, today: date) -> CloseReport:
        return CloseReport(period, START, END, LINES, False, by, ())

    def read(self, report: Callable[[Session], Any]) -> dict[str, list[RevenueLine]]:
        return {"USD": [RevenueLine("4000", 100, f"obligation {n}") for n in range(LINES)]}


@pytest.fixture
def netsuite() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        yield stack


def _entries(stack: SandboxStack) -> dict[str, tuple[int, int]]:
    """External ID -> (lines, the Deferred Revenue debit in cents)."""
    assert stack.netsuite is not None
    return {str(e["externalId"]): (len(e["line"]["items"]), sum(
        dollars(line.get("debit") or 0) for line in e["line"]["items"]))
        for e in stack.netsuite.records("journalEntry")}


def test_a_long_month_is_split_into_entries_netsuite_takes(
        netsuite: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> None:
    journal = make_revenue_journal(make_erp(make_settings(netsuite, db_url), sessions))
    assert journal is not None
    done = close_on_erp(_Released(), journal, period="2026-11", by="controller",  # type: ignore[arg-type]
                        today=date(2026, 12, 1))
    key = "closebot-rev-2026-11-USD"
    expected = {key: (200, 19_900), f"{key}-part-2": (200, 19_900),
                f"{key}-part-3": (53, 5_200)}
    assert _entries(netsuite) == expected
    assert [(p.external_id, p.amount_minor, p.lines) for p in done.postings] == [
        (key, 19_900, 199), (f"{key}-part-2", 19_900, 199), (f"{key}-part-3", 5_200, 52)]
    assert sum(p.amount_minor for p in done.postings) == LINES * 100

    again = close_on_erp(_Released(), journal, period="2026-11", by="controller",  # type: ignore[arg-type]
                         today=date(2026, 12, 1))
    assert [p.erp_id for p in again.postings] == [p.erp_id for p in done.postings]
    assert _entries(netsuite) == expected


def test_netsuite_refuses_an_entry_over_its_line_limit(
        netsuite: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> None:
    journal = make_revenue_journal(make_erp(make_settings(netsuite, db_url), sessions))
    assert journal is not None
    with pytest.raises(PermanentError, match="at most 200 lines"):
        close_on_erp(_Released(), journal, period="2026-11", by="controller",  # type: ignore[arg-type]
                     today=date(2026, 12, 1), max_lines=1000)
    assert _entries(netsuite) == {}
