"""Revenue benchmark: `python -m bench.revenue --contracts 100000 [--json]`.

Plans the schedules of N three-year contracts (an implementation at 50% off, allocated by
relative SSP, plus a 36-month subscription: 37 schedule lines each), loads them into the
embedded ledger's tables on a fresh database (SQLite, or PostgreSQL with `--database-url` or
BENCH_DATABASE_URL naming an empty database), and closes one month (each contract has
two rows due in it). Reports planning time (allocation + schedules, in memory),
load time, close time, schedule lines, entries the close posted, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from app.settings import Settings
from app.wiring import open_database
from storage.db import transaction
from storage.ledger import (
    LedgerCustomer,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.ledger import Ledger
from sync.ledger.accounts import revenue_account, seed_chart
from sync.model import (
    BillingPlan,
    Cadence,
    Contract,
    Customer,
    Obligation,
    PricingModel,
    Recognition,
)
from sync.revenue.allocation import Ssp, allocate
from sync.revenue.schedule import plan

START = date(2026, 1, 1)
END = date(2028, 12, 31)  # 36 months
SSPS = {"Implementation": Ssp(2_000_000, 2_000_000, "USD"),
        "Platform": Ssp(300_000, 300_000, "USD")}
CHUNK = 2_000  # contracts per insert batch: memory stays flat whatever N


def contract(i: int) -> Contract:
    common: dict[str, Any] = {"pricing": PricingModel.FLAT, "quantity": 1}
    return Contract(
        opportunity_id=f"006B{i:012d}", name=f"Bench {i}",
        customer=Customer(crm_account_id=f"001B{i:012d}", name=f"Customer {i}"),
        billing=BillingPlan(cadence=Cadence.ANNUAL, start=START, end=END, payment_terms_days=30,
                            currency="USD"),
        obligations=(
            Obligation(line_id=f"00kI{i}", product="Implementation", recurring=False,
                       list_unit_minor=2_000_000, unit_minor=1_000_000, amount_minor=1_000_000,
                       service_start=START, service_end=START,
                       recognition=Recognition.POINT_IN_TIME, **common),
            Obligation(line_id=f"00kP{i}", product="Platform", recurring=True,
                       list_unit_minor=3_600_000, unit_minor=3_600_000, amount_minor=10_800_000,
                       periods=3, service_start=START, service_end=END,
                       recognition=Recognition.RATABLE, **common),
        ),
        total_minor=11_800_000,
    )


def planned(first: int, count: int) -> Iterator[tuple[Contract, list[list[Any]]]]:
    """Each contract, allocated, with each obligation's periods."""
    for i in range(first, first + count):
        c = allocate(contract(i), SSPS)
        yield c, [plan(amount_minor=o.revenue_minor, start=o.service_start, end=o.service_end,
                       recognition=o.recognition.value) for o in c.obligations]


def timed_planning(contracts: int) -> tuple[float, float, int]:
    """Allocation and schedules of every contract, in memory, chunk by chunk (the contracts are
    built outside the clock: they are the input, read from the database in production)."""
    elapsed, cpu, lines = 0.0, 0.0, 0
    for first in range(0, contracts, CHUNK):
        batch = [contract(i) for i in range(first, min(first + CHUNK, contracts))]
        t0, c0 = time.perf_counter(), time.process_time()
        for c in batch:
            for o in allocate(c, SSPS).obligations:
                lines += len(plan(amount_minor=o.revenue_minor, start=o.service_start,
                                  end=o.service_end, recognition=o.recognition.value))
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
    return elapsed, cpu, lines


def run(contracts: int, workdir: Path, *, plan_only: bool = False,
        database_url: str | None = None) -> dict[str, Any]:
    planning_s, planning_cpu, lines = timed_planning(contracts)
    if plan_only:
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"contracts": contracts, "schedule_lines": lines,
                "planning_s": round(planning_s, 2), "planning_cpu_s": round(planning_cpu, 2),
                "peak_rss_mb": round(rss_mb, 1)}

    settings = Settings(database_url=database_url or f"sqlite:///{workdir / 'bench.db'}")
    _, sessions = open_database(settings)
    with transaction(sessions) as s:
        seed_chart(s)
    t0 = time.perf_counter()
    for first in range(0, contracts, CHUNK):
        _load(sessions, first, min(CHUNK, contracts - first))
    load_s = time.perf_counter() - t0

    # Close January 2026: each contract's implementation and first subscription month are due.
    t0, c0 = time.perf_counter(), time.process_time()
    report = Ledger(sessions).close_period(period="2026-01", by="bench", today=date(2026, 2, 2))
    close_s, close_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"contracts": contracts, "schedule_lines": lines, "planning_s": round(planning_s, 2),
            "planning_cpu_s": round(planning_cpu, 2),
            "load_s": round(load_s, 2), "close_s": round(close_s, 2),
            "close_cpu_s": round(close_cpu, 2),
            "close_entries": report.posted, "peak_rss_mb": round(rss_mb, 1),
            "roll_forward_ties": all(r.ties for r in report.roll_forward),
            "recognized_minor": sum(r.recognized for r in report.roll_forward)}


def _load(sessions: Any, first: int, count: int) -> None:
    customers, orders, order_lines, rows = [], [], [], []
    for c, periods in planned(first, count):
        n = int(c.opportunity_id[4:]) + 1
        customers.append({"id": n, "external_id": c.customer.crm_account_id,
                          "number": f"CUST-{n:06d}", "name": c.customer.name, "currency": "USD"})
        orders.append({"id": n, "external_id": c.order_key, "number": f"SO-{n:06d}",
                       "customer_id": n, "currency": "USD", "total_minor": c.total_minor})
        for k, (o, ps) in enumerate(zip(c.obligations, periods, strict=True), start=1):
            line_id = n * 2 + k - 2 + 1
            order_lines.append({
                "id": line_id, "sales_order_id": n, "line_no": k, "external_id": o.line_id,
                "description": o.product, "amount_minor": o.revenue_minor,
                "contract_minor": o.amount_minor, "recurring": o.recurring,
                "service_start": o.service_start, "service_end": o.service_end,
                "recognition": o.recognition.value,
                "revenue_account": revenue_account(recurring=o.recurring)})
            rows += [{"sales_order_line_id": line_id, "period_no": j, "period_start": p.start,
                      "period_end": p.end, "recognize_on": p.recognize_on,
                      "amount_minor": p.amount_minor, "currency": "USD",
                      "revenue_account": revenue_account(recurring=o.recurring)}
                     for j, p in enumerate(ps, start=1) if p.amount_minor]
    with transaction(sessions) as s:
        s.execute(insert(LedgerCustomer), customers)
        s.execute(insert(LedgerSalesOrder), orders)
        s.execute(insert(LedgerSalesOrderLine), order_lines)
        s.execute(insert(LedgerRevenueSchedule), rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=200)
    parser.add_argument("--plan-only", action="store_true",
                        help="Only allocation and schedule planning; no database, no close.")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="An empty database to load and close in (default: a fresh SQLite "
                        "file).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.contracts, Path(tmp), plan_only=args.plan_only,
                     database_url=args.database_url)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
