"""`closebot books waterfall`: what each contract still has to recognize, month by month, the
RPO current / non-current, and the chart, on two sandbox deals synced on day S.

By hand:
- Acme (USD): Implementation 20,000 recognized on S; Platform 100,000 over 10 months still to
  recognize, 10,000 in each of the 10 months after S (a period ends a month after it starts).
  RPO USD 100,000, all current (within 12 months).
- Wayne Enterprises GmbH (EUR): 60,000 over 24 months, 2,500 a month. The first 12 periods end
  within 12 months of S (30,000 current), the last 12 after (30,000 non-current).
"""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot

K = 100_000  # 1,000.00 in cents


def test_waterfall_rows_months_rpo_and_chart(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        deals = demo_deals()
        acme, wayne = deals[0], deals[4]
        assert wayne.currency == "EUR" and wayne.months == 24
        seeder = BookSeeder(stack.salesforce)
        acme_id, wayne_id = seeder.seed(acme), seeder.seed(wayne)
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'wf.db'}")
        synced = closebot("sync", "--once", env=env, cwd=tmp_path)
        assert synced.returncode == 0, synced.stdout + synced.stderr

        png = tmp_path / "waterfall.png"
        done = closebot("books", "waterfall", "--json", "--chart", str(png), env=env,
                        cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        found = json.loads(done.stdout)
        assert found["rpo"] == [
            {"currency": "EUR", "total": 60 * K, "current": 30 * K, "non_current": 30 * K},
            {"currency": "USD", "total": 100 * K, "current": 100 * K, "non_current": 0}]
        rows = {r["contract"]: r for r in found["rows"]}
        assert set(rows) == {acme_id, wayne_id}
        acme_cells = [v for v in rows[acme_id]["cells_minor"].values() if v]
        assert acme_cells == [10 * K] * 10 and rows[acme_id]["total_minor"] == 100 * K
        # One 2,500 period ends in each month shown after S's own (11 or, when S is the 1st,
        # 12 of them); the rest of the 24 are later.
        wayne_cells = rows[wayne_id]["cells_minor"]
        shown = [wayne_cells[c] for c in found["columns"][:12] if wayne_cells[c]]
        assert set(shown) == {250_000} and len(shown) in (11, 12)
        assert wayne_cells["later"] == 60 * K - 250_000 * len(shown)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000

        text = closebot("books", "waterfall", "--by", "customer", env=env, cwd=tmp_path)
        assert text.returncode == 0, text.stderr
        assert "RPO USD 100,000.00: current (12 months) USD 100,000.00" in text.stdout
        assert "Acme Corp (Acme Corp)" in text.stdout
