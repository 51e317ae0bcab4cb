"""The pipeline benchmark runs end to end on a small book, on either ERP, and reports its keys."""

from __future__ import annotations

import json

import pytest

from bench.pipeline import run


@pytest.mark.parametrize("erp", ["ledger", "netsuite"])
def test_pipeline_benchmark_settles_a_small_book(erp: str) -> None:
    result = json.loads(json.dumps(run(40, seed=3, erp=erp)))  # what --json prints
    assert result["erp"] == erp and result["statuses"] == {"synced": 40}
    assert set(result["calls_per_deal"]) == {"salesforce", "stripe", "erp"}
    assert result["calls_per_deal"]["stripe"] <= 3
    assert result["engine_ms_per_deal"] > 0 and result["peak_rss_mb"] > 0
