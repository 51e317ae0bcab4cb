"""Stripe emulator cash benchmark: `python -m bench.stripe_cash --charges 20000 [--json]`.

Seeds card charges spread over `--days` (one in 50 partly refunded, one in 500 disputed) straight
into the emulator's state, lets the sandbox clock run the daily payouts, then reads every payout
and its balance transactions back through stripe-python in pages of 100, as a reconciliation
does. Reports the emulator's own cost (seeding, the clock, the reads), the HTTP calls against
their floor (payout pages + one page per 100 transactions of each payout), whether every payout
nets to zero, and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

import stripe

from sandbox.stripe import StripeEmulator, disputes, payments, refunds

DAY = 86_400
START = 1_767_225_600  # 2026-01-01T00:00:00Z


def _seed(emu: StripeEmulator, charges: int, days: int) -> None:
    st = emu.state
    step = max(days * DAY // max(charges, 1), 1)
    for n in range(charges):
        with st.lock:
            pi = payments.create_payment_intent(st, {
                "amount": 1_000 + (n * 7919) % 500_000, "currency": "usd",
                "payment_method": "pm_card_visa", "confirm": True})
            if n % 50 == 7:
                refunds.create_refund(st, {"charge": pi["latest_charge"], "amount": 500})
            if n % 500 == 11:
                disputes.open_dispute(st, pi["latest_charge"], {})
        emu.advance(seconds=step)


def _read(client: stripe.StripeClient) -> tuple[int, int, int, bool]:
    """(payouts, balance transactions, pages read, every payout nets to zero)."""
    payouts = txns = pages = 0
    balanced = True
    for po in client.v1.payouts.list(params={"limit": 100}).auto_paging_iter():
        payouts += 1
        net = 0
        page = client.v1.balance_transactions.list(params={"payout": po.id, "limit": 100})
        pages += 1
        while True:
            net += sum(t.net for t in page.data)
            txns += len(page.data)
            if not page.has_more:
                break
            page = client.v1.balance_transactions.list(params={
                "payout": po.id, "limit": 100, "starting_after": page.data[-1].id})
            pages += 1
        balanced = balanced and net == 0
    return payouts, txns, pages, balanced


def run(charges: int, days: int) -> dict[str, Any]:
    with StripeEmulator(start_time=START + 3_600) as emu:
        started = time.process_time()
        _seed(emu, charges, days)
        seeded = time.process_time()
        emu.advance(days=4)  # the last charges become available and are paid out
        clocked = time.process_time()
        emu.reset_calls()
        client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
        wall = time.monotonic()
        payouts, txns, pages, balanced = _read(client)
        read_s = time.monotonic() - wall
        calls = sum(emu.calls.values())
    floor = pages + -(-payouts // 100)
    return {
        "charges": charges, "days": days, "payouts": payouts, "balance_transactions": txns,
        "every_payout_nets_to_zero": balanced, "seed_cpu_s": round(seeded - started, 2),
        "clock_cpu_s": round(clocked - seeded, 2), "read_wall_s": round(read_s, 2),
        "read_ms_per_txn": round(1000 * read_s / max(txns, 1), 3), "http_calls": calls,
        "http_call_floor": floor,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charges", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.charges, args.days)
    print(json.dumps(result) if args.json else "\n".join(f"{k:<28}{v}" for k, v in
                                                         result.items()))


if __name__ == "__main__":
    main()
