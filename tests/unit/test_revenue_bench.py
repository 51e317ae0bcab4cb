"""The revenue benchmark runs end to end on a small book and its close ties out.

Each contract: implementation list 20,000 sold at 10,000 + platform 108,000 over 36 months;
SSPs 20,000 and 3,000 a month (108,000 standalone), 128,000 in all. Price 118,000 allocated
118,000 x 20/128 = 18,437.50 and x 108/128 = 99,562.50. The platform's 9,956,250 cents in 36
months: 276,562 each and 18 cents left, so the first 18 months are 276,563. Closing January
recognizes 1,843,750 + 276,563 = 2,120,313 per contract; no invoices are loaded, so deferred
revenue is that much in debit, and the roll-forward still ties to the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.revenue import run


def test_revenue_benchmark_plans_loads_and_closes(tmp_path: Path) -> None:
    result = json.loads(json.dumps(run(20, tmp_path)))
    assert result["schedule_lines"] == 20 * 37
    assert result["close_entries"] == 40 and result["roll_forward_ties"]
    assert result["recognized_minor"] == 20 * 2_120_313
    assert result["planning_s"] >= 0 and result["peak_rss_mb"] > 0
