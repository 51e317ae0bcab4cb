"""`closebot close --period` with NetSuite as the ERP, as a person runs it.

The seed deal (Implementation Services USD 20,000 on delivery at the start S + Platform
Subscription USD 100,000 over 10 months) is posted to NetSuite; closebot keeps its schedules.
Closing S's month P1 posts one journal entry `closebot-rev-P1-USD`: the implementation's 20,000,
plus the subscription's first 10,000 when S is the 1st (its first month then ends in P1).
Running it again posts nothing: the same entry, no second one. The roll-forward is NetSuite's
Deferred Revenue: 0 + 120,000 billed - that entry, which is its balance there.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, succeeds

K = 100_000  # USD 1,000.00 in cents


def _close(env: dict[str, str], cwd: Path, period: str) -> dict:
    done = closebot("close", "--period", period, "--json", env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_close_posts_the_months_revenue_to_netsuite_once(tmp_path: Path) -> None:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        assert stack.netsuite is not None
        deal = demo_deals()[0]
        start: date = deal.start
        BookSeeder(stack.salesforce).seed(deal)
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'close.db'}")
        succeeds("sync", "--once", env=env, cwd=tmp_path)
        next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        succeeds("sandbox", "advance", "--days", str((next_month - start).days), env=env,
                 cwd=tmp_path)
        period = f"{start:%Y-%m}"
        expected = 20 * K + (10 * K if start.day == 1 else 0)

        report = _close(env, tmp_path, period)
        [entry] = report["journal_entries"]
        assert (report["erp"], report["already_closed"]) == ("netsuite", False)
        assert (entry["external_id"], entry["amount_minor"]) == (
            f"closebot-rev-{period}-USD", expected)
        # NetSuite's Deferred Revenue holds the invoice's 120,000 less the entry: it ties.
        [rolled] = report["roll_forward"]
        assert (rolled["billings"], rolled["recognized"], rolled["ledger_balance"],
                rolled["ties"]) == (120 * K, expected, 120 * K - expected, True)
        again = _close(env, tmp_path, period)
        assert again["already_closed"] and again["journal_entries"] == report["journal_entries"]
        [record] = [r for r in stack.netsuite.records("journalEntry")
                    if r["externalId"] == f"closebot-rev-{period}-USD"]
        assert len(stack.netsuite.records("journalEntry")) == 1
        assert sum(int(line.get("credit") or 0) for line in record["line"]["items"]) \
            == expected // 100
        text = succeeds("close", "--period", period, env=env, cwd=tmp_path)
        assert f"closebot-rev-{period}-USD" in text and "already closed" in text
