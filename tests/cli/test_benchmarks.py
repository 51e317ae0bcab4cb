"""The benchmarks run end to end on a small book and report their keys."""

from __future__ import annotations

import json

import pytest

from bench.cash import run as cash_run
from bench.pipeline import run


@pytest.mark.parametrize("erp", ["ledger", "netsuite"])
def test_pipeline_benchmark_settles_a_small_book(erp: str) -> None:
    # NetSuite as a real account answers: each request takes its time, 5 at once at most.
    latency = 20.0 if erp == "netsuite" else 0.0
    result = json.loads(json.dumps(run(40, seed=3, erp=erp, erp_latency_ms=latency)))
    assert result["erp"] == erp and result["statuses"] == {"synced": 40}
    assert set(result["calls_per_deal"]) == {"salesforce", "stripe", "erp"}
    assert result["calls_per_deal"]["stripe"] <= 3
    assert result["engine_ms_per_deal"] > 0 and result["peak_rss_mb"] > 0
    if erp == "netsuite":
        # Its floor, and the in-flight figures: the limit filled, never exceeded.
        assert result["erp_floor_per_deal"] >= 3 and result["erp_calls_over_floor"] >= 1
        assert (result["erp_peak_in_flight"], result["erp_throttled"]) == (5, 0)
        assert result["erp_requests_served"] >= result["erp_floor_per_deal"] * 40
        assert result["erp_utilisation"] > 0 and 0 < result["erp_utilisation_measured"] <= 1


def test_cash_benchmark_reconciles_every_payout() -> None:
    result = json.loads(json.dumps(cash_run(1_000)))  # what --json prints
    assert (result["payouts"], result["settled"], result["problems"]) == (10, 10, 0)
    assert result["clearing"] == 0 and result["audit_findings"] == []
    # Transaction and payout pages are the floor; the rest is the disputes page: refunds find
    # their invoice among the payments closebot saw paid, without asking Stripe.
    assert result["pages_vs_floor"] == 1.0
    assert result["stripe_calls"] == result["floor"] + 1
    assert result["cpu_ms_per_txn"] > 0 and result["peak_rss_mb"] > 0
