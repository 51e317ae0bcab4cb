"""The bank matching benchmark runs on a small statement in each format and reports its keys."""

from __future__ import annotations

import json

import pytest

from bench.bank import run


@pytest.mark.parametrize("fmt", ["camt", "ofx", "bai2"])
def test_bank_benchmark_matches_every_payout_once(fmt: str) -> None:
    result = json.loads(json.dumps(run(600, fmt)))  # what --json prints
    assert (result["payouts"], result["matched"], result["missing_payouts"]) == (60, 60, 0)
    assert result["unmatched_lines"] == 540
    assert (result["reimport_new_lines"], result["reimport_matched"]) == (0, 0)
    assert result["import_cpu_s"] > 0 and result["match_only_cpu_s"] >= 0
