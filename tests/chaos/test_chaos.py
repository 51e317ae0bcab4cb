"""The chaos run at test size: 100 deals, 10% faults, 5 SIGKILLs, 10 credits approved while the
workers are faulted and killed, three seeds. (The kills come in the first seconds, while the
workers are well inside the book: 100 deals keep them mid-flight, as 200 did, in half the
time; `bench.chaos` runs the 2,000.) The audit is the oracle: nothing duplicated,
nothing lost, every entry balanced, every credit applied once."""

from __future__ import annotations

import json

import pytest

from bench.chaos import run


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_books_survive_faults_and_kills(seed: int, tmp_path) -> None:
    result = run(100, fault_rate=0.1, kills=5, seed=seed, settle_s=180, log_dir=tmp_path,
                 credits=10)
    assert result["kills"] == 5
    credits = result["credits"]
    assert (credits["approved"], credits["applied"]) == (10, 10), credits
    assert (credits["duplicate_notes"], credits["lost"]) == (0, 0), credits
    assert sum(result["faults"].values()) > 0
    assert (result["duplicates"], result["lost"], result["unbalanced"]) == (0, 0, 0), result
    assert result["audit_ok"], result["problems"]
    # SIGTERM at the end released everything: nothing is left leased.
    assert result["leased_after_sigterm"] == 0
    assert set(result["worker_exit_codes"]) == {0}
    # Every worker line is JSON and carries a correlation id when it is about a deal.
    lines = [json.loads(line) for path in tmp_path.glob("worker-*.log")
             for line in path.read_text().splitlines() if line.startswith("{")]
    about_deals = [line for line in lines if "opportunity_id" in line]
    assert about_deals
    assert all(line["correlation_id"] == line["opportunity_id"] for line in about_deals)


@pytest.mark.slow
def test_books_survive_faults_and_kills_with_netsuite_as_the_erp(tmp_path) -> None:
    result = run(100, fault_rate=0.1, kills=5, seed=21, settle_s=180, log_dir=tmp_path,
                 erp="netsuite", credits=10)
    assert result["credits"]["applied"] == 10, result["credits"]
    assert result["faults_by_system"]["netsuite"] > 0
    assert (result["duplicates"], result["lost"], result["unbalanced"]) == (0, 0, 0), result
    assert result["audit_ok"], result["problems"]
    assert result["leased_after_sigterm"] == 0


@pytest.mark.parametrize("erp", ["ledger", "netsuite"])
def test_the_chaos_run_ends_with_the_money_audit_clean(erp: str, tmp_path) -> None:
    """A lean run (24 deals, 2 kills, 3 credits): the money audit runs and its figures tie."""
    result = run(24, fault_rate=0.1, kills=2, seed=31, settle_s=60, log_dir=tmp_path,
                 erp=erp, credits=3, kill_gap=(0.3, 1.0))
    assert (result["duplicates"], result["lost"], result["unbalanced"]) == (0, 0, 0), result
    money = result["money"]
    assert money["ok"] and money["variances"] == {} and money["untied"] == 0, money
    usd = money["currencies"]["USD"]
    assert usd["totals"]["booked"] > 0 and usd["totals"]["concessions"] > 0, usd
    assert usd["totals"]["booked"] == usd["totals"]["billed"] + usd["totals"]["scheduled"] \
        == usd["totals"]["erp_orders"]
    assert usd["totals"]["stripe_open"] == usd["totals"]["erp_receivable"]
    assert result["credits"]["applied"] == 3 and result["audit_ok"], result["problems"]


def test_cash_survives_faults_and_kills(tmp_path) -> None:
    """A lean cash run (24 deals, 7 invoices paid by card: one refunded in full, one in part,
    one disputed and won, one lost; 2 kills before and 2 while the workers book them; Stripe
    pays everything out). The cash audit is the oracle: every paid payout nets Clearing to
    zero, and Stripe's balance equals Clearing plus what is still to be booked: here both 0,
    since every balance transaction was paid out. Then one refund's entry is posted again
    under another external ID: the same audit must see Clearing off."""
    result = run(24, fault_rate=0.1, kills=2, seed=31, settle_s=60, log_dir=tmp_path,
                 cash=7, cash_kills=2, kill_gap=(0.3, 1.0), plant="double_post")
    cash = result["cash"]
    assert result["kills"] == 4 and sum(result["faults"].values()) > 0, result
    assert (cash["paid"], cash["full_refund"], cash["partial_refund"], cash["dispute_won"],
            cash["dispute_lost"]) == (7, 1, 1, 1, 1), cash
    assert cash["payouts_paid"] > 0 and cash["variances"] == {}, cash
    assert cash["balances"] and all(
        b["stripe_balance"] == b["clearing"] + b["clearing_to_book"] == 0
        for b in cash["balances"].values()), cash
    assert (result["duplicates"], result["lost"], result["unbalanced"]) == (0, 0, 0), result
    # Every money figure ties, refunds booked days after their own date included.
    money = result["money"]
    assert money["untied"] == 0 and not money["variances"], (money, result["problems"])
    assert result["audit_ok"] and not result["problems"], result["problems"]
    planted = result["cash_after_plant"]
    assert planted["variances"] == {"clearing_vs_stripe_balance": 1} and not planted["ok"]
