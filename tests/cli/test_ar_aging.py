"""`closebot books ar-aging` on the $120K Acme deal of tests/cli/test_books.py, on each ERP.

Worked by hand: the deal bills USD 120,000.00 on one invoice today, due in 30 days (net 30),
and nothing is paid. Today it is all current. 45 days on, it is 15 days past due: all of it in
1-30. 100 days on, 70 days past due: all in 61-90. The total never changes: 120,000.00.
"""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.stack import SandboxStack
from tests.cli.conftest import closebot
from tests.cli.test_books import acme

__all__ = ["acme"]
TOTAL = 12_000_000


def _aging(env: dict[str, str], cwd: Path, *args: str) -> dict:
    done = closebot("books", "ar-aging", "--json", *args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_ar_aging_moves_through_the_buckets(acme: tuple[SandboxStack, dict, str],
                                            tmp_path: Path) -> None:
    _, env, _ = acme
    today = _aging(env, tmp_path)
    assert today["totals_minor"] == {"USD": {"current": TOTAL, "1-30": 0, "31-60": 0,
                                             "61-90": 0, "90+": 0}}
    (row,) = today["customers"]
    assert row["customer"].startswith("Acme") and sum(row["buckets_minor"].values()) == TOTAL
    assert _aging(env, tmp_path, "--customer", "nobody")["totals_minor"] == {}

    for days, where in ((45, "1-30"), (55, "61-90")):
        moved = closebot("sandbox", "advance", "--days", str(days), env=env, cwd=tmp_path)
        assert moved.returncode == 0, moved.stderr
        later = _aging(env, tmp_path)["totals_minor"]["USD"]
        assert later[where] == TOTAL and sum(later.values()) == TOTAL, later

    table = closebot("books", "ar-aging", env=env, cwd=tmp_path)
    assert table.returncode == 0 and "All customers (USD)" in table.stdout
    assert "USD 120,000.00" in table.stdout
