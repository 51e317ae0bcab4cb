"""Cash benchmark: `python -m bench.cash --charges 100000 [--per-payout 100] [--json]`.

Stripe (the emulator, in a process of its own, see `bench/cash_seed.py`) holds `--charges` card
charges with their fees, 0.5% refunded in part and 0.1% disputed and lost, paid out every
`--per-payout` charges. closebot's cash run then reconciles every payout through the Stripe API
(balance transactions by payout, 100 a page) into the embedded ledger (SQLite), and the cash
audit checks the books. Reports:
- Stripe calls against the floor (the balance-transaction pages plus the payout pages), with
  what else was read (the disputes list; an invoice lookup per refund or dispute whose payment
  closebot didn't see pay its invoice: all of them with `--unknown-payments`);
- closebot's CPU per balance transaction (this process: the HTTP client, the postings, the
  ledger), and its peak RSS, which must not grow with the number of charges;
- Clearing, Cash and the fees after the run, and whether the audit found anything.
Targets (docs/cash.md): calls ≤ 1.05 x floor, CPU ≤ 0.2 ms per transaction, RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import date
from typing import Any

from sqlalchemy import insert

from bench.cash_seed import serve
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.tables import IdLink
from sync.cash.payment_invoices import KnownPayments, remember
from sync.cash.run import cash_findings, run_cash
from sync.connectors.ledger_cash import LedgerCash
from sync.connectors.stripe_cash import StripeCash
from sync.ledger import InvoiceLineIn, Ledger
from sync.ledger.accounts import CASH, PROCESSING_FEES, STRIPE_CLEARING


def _books(ledger: Ledger, made: list[tuple[str, str, int, list[str]]], sessions: Any,
           *, known: bool) -> None:
    """What the post step would have left: per payout's customer, its invoice and payment; with
    `known`, what the events poll kept: the invoice each payment intent paid."""
    for customer, invoice, gross, _ in made:
        ledger.upsert_customer(external_id=f"001{customer}", name=customer, currency="USD")
        ledger.post_invoice(
            external_id=invoice, customer_external_id=f"001{customer}",
            sales_order_external_id=None, number=None, currency="USD",
            issued_on=time_day(), due_on=time_day(), lines=[InvoiceLineIn("Platform", gross)])
        ledger.apply_payment(external_id=f"{invoice}:paid", invoice_external_id=invoice,
                             amount_minor=gross, currency="USD", paid_on=time_day())
    with transaction(sessions) as session:
        session.execute(insert(IdLink), [
            {"scope": f"account:001{c}", "system": "stripe", "kind": "customer",
             "external_id": c} for c, _, _, _ in made])
        if known:
            for _, invoice, _, paid in made:
                remember(session, ((pi, invoice) for pi in paid))


def time_day() -> date:
    return date(2026, 1, 5)


def run(charges: int, per_payout: int = 100, *, known: bool = True) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    stripe_side = multiprocessing.get_context("spawn").Process(
        target=serve, args=(child, charges, per_payout), daemon=True)
    stripe_side.start()
    try:
        info = parent.recv()
        engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
        upgrade(engine)
        sessions = make_session_factory(engine)
        ledger = Ledger(sessions)
        _books(ledger, info["made"], sessions, known=known)
        reads = StripeCash(api_key=info["api_key"], api_base=info["url"],
                           known=KnownPayments(sessions) if known else None)
        erp = LedgerCash(ledger)
        cpu, wall = time.process_time(), time.perf_counter()
        outcome = run_cash(reads, erp, sessions)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        calls = dict(reads.calls)
        findings = cash_findings(reads, erp, sessions)
        parent.send("stop")
    finally:
        stripe_side.join(timeout=10)
        if stripe_side.is_alive():
            stripe_side.terminate()
    txns = info["transactions"]
    payouts = len(info["made"])
    floor = payouts * math.ceil((txns / payouts) / 100) + math.ceil(payouts / 100)
    core = calls.get("balance_transactions.list", 0) + calls.get("payouts.list", 0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "charges": charges, "payouts": payouts, "payments_known": known,
        "balance_transactions": txns,
        "settled": outcome.settled, "problems": len(outcome.problems),
        "stripe_calls": sum(calls.values()), "calls_by_kind": calls, "floor": floor,
        "calls_vs_floor": round(sum(calls.values()) / floor, 3),
        "pages_vs_floor": round(core / floor, 3),
        "cpu_ms_per_txn": round(cpu * 1000 / txns, 4), "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1),
        "clearing": ledger.account_balance(STRIPE_CLEARING, "USD"),
        "cash": ledger.account_balance(CASH, "USD"),
        "fees": ledger.account_balance(PROCESSING_FEES, "USD"),
        "audit_findings": [f.reason for f in findings][:5],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charges", type=int, default=2_000)
    parser.add_argument("--per-payout", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--unknown-payments", action="store_true",
                        help="closebot saw no invoice_payment.paid event: every refund's and "
                             "dispute's invoice is looked up in Stripe")
    args = parser.parse_args(argv)
    result = run(args.charges, args.per_payout, known=not args.unknown_payments)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
