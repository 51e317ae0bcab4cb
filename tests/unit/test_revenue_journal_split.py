"""A month's revenue lines split into ERP journal entries of at most N lines.

By hand, five obligation lines of USD 100.00, 200.00, 300.00, 400.00 and 500.00 (1,500.00) with
REVENUE_JOURNAL_MAX_LINES=3: each entry is the Deferred Revenue debit plus 2 credits, so three
entries: 100 + 200 = 300.00, 300 + 400 = 700.00, 500.00; together 1,500.00, in their order.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from app.settings import Settings
from sync.ledger.subledger_close import close_on_erp, split
from sync.ports_revenue import RevenueLine


def test_lines_split_in_order_and_add_back() -> None:
    lines = [RevenueLine("4000", amount, f"line {n}")
             for n, amount in enumerate((10_000, 20_000, 30_000, 40_000, 50_000), start=1)]
    parts = split(lines, 3 - 1)
    assert [[line.amount_minor for line in part] for part in parts] == [
        [10_000, 20_000], [30_000, 40_000], [50_000]]
    assert sum(line.amount_minor for part in parts for line in part) == 150_000
    assert split(lines, 1000) == [lines]
    assert split([], 2) == []


def test_an_entry_needs_room_for_the_debit_and_one_credit() -> None:
    with pytest.raises(ValueError, match="at least 2 lines"):
        close_on_erp(None, None, period="2026-11", by="x", today=date(2026, 12, 1),  # type: ignore[arg-type]
                     max_lines=1)
    with pytest.raises(ValidationError):
        Settings(revenue_journal_max_lines=1)
