"""Pipeline benchmark: `python -m bench.pipeline --deals 5000 [--erp netsuite|intacct] [--json]`.

The emulators run in a child process with a generated book; this process runs the real pipeline
(intake → bill → post → write-back) against them on a fresh SQLite database until every deal is
settled, and reports throughput, external calls per deal, the engine's own CPU time per deal
(excluding time spent waiting on the servers) and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime, open_database
from storage.db import transaction
from storage.tables import Deal


def start_sandbox(deals: int, seed: int,
                  erp: str = "ledger") -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--deals", str(deals), "--seed", str(seed),
         "--erp", erp],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("the sandbox process did not start")
    return proc, json.loads(line)["env"]


class ConnectorMeter:
    """CPU time spent inside connector calls, per system (vendor clients, the embedded ledger)."""

    ERP_METHODS = ("upsert_customer", "upsert_sales_order", "post_invoice", "apply_payment",
                   "post_credit_memo")

    def __init__(self, rt: Any) -> None:
        self.by_system: dict[str, float] = {"salesforce": 0.0, "stripe": 0.0, "erp": 0.0}
        self._depth = 0
        rt.crm._call = self._wrap("salesforce", rt.crm._call)
        rt.billing._call = self._wrap("stripe", rt.billing._call)
        if hasattr(rt.erp, "_call"):  # NetSuite, Intacct: every HTTP request, lookups included
            rt.erp._call = self._wrap("erp", rt.erp._call)
        else:
            for name in self.ERP_METHODS:
                setattr(rt.erp, name, self._wrap("erp", getattr(rt.erp, name)))

    @property
    def seconds(self) -> float:
        return sum(self.by_system.values())

    def _wrap(self, system: str, func: Any) -> Any:
        def metered(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            started = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.by_system[system] += time.process_time() - started

        return metered


def run(deals: int, seed: int = 7, database_url: str | None = None,
        erp: str = "ledger") -> dict[str, Any]:
    proc, env = start_sandbox(deals, seed, erp)
    try:
        with tempfile.TemporaryDirectory(prefix="closebot-bench-") as tmp:
            url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            overrides: dict[str, Any] = {k.lower(): v for k, v in env.items()}
            # The emulators have no rate limits; measure the engine, not the token buckets
            # (bench.chaos measures those).
            overrides.update(stripe_rate_per_s=0, salesforce_rate_per_s=0)
            settings = Settings(database_url=url, **overrides)
            engine, sessions = open_database(settings)
            rt = build_runtime(settings, sessions)
            meter = ConnectorMeter(rt)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            rounds = 0
            while rounds < 20:
                sync_once(rt)
                rounds += 1
                with transaction(sessions) as session:
                    pending = session.scalar(
                        select(func.count()).select_from(Deal).where(Deal.status == "pending")
                    )
                if not pending:
                    break
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            with transaction(sessions) as session:
                statuses = dict(
                    session.execute(select(Deal.status, func.count()).group_by(Deal.status)).all()
                )
            engine.dispose()
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=30)
    crm, billing, books = rt.crm, rt.billing, rt.erp
    # The floor: one request per ERP record created (Intacct counts its creates).
    floor = getattr(books, "created", None)
    return {
        "deals": deals,
        "erp": erp,
        "deals_per_s": round(deals / wall, 1),
        "calls_per_deal": {
            "salesforce": round(sum(crm.calls.values()) / deals, 4),  # type: ignore[attr-defined]
            "stripe": round(sum(billing.calls.values()) / deals, 3),  # type: ignore[attr-defined]
            "erp": round(books.calls / deals, 3),  # type: ignore[attr-defined]
        },
        # closebot's own CPU: the process's, less what the vendor clients and the embedded
        # ledger spent inside connector calls (the client side of talking to the systems).
        "erp_floor_per_deal": round(floor / deals, 3) if floor is not None else None,
        "erp_calls_over_floor": round(books.calls / floor, 2) if floor else None,  # type: ignore[attr-defined]
        "engine_ms_per_deal": round((cpu - meter.seconds) * 1000 / deals, 3),
        "connector_ms_per_deal": round(meter.seconds * 1000 / deals, 3),
        "connector_ms_by_system": {system: round(spent * 1000 / deals, 3)
                                   for system, spent in meter.by_system.items()},
        "total_cpu_ms_per_deal": round(cpu * 1000 / deals, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wall_s": round(wall, 2),
        "statuses": statuses,
        "calls": {"salesforce": dict(crm.calls), "stripe": dict(billing.calls)},  # type: ignore[attr-defined]
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--erp", choices=("ledger", "netsuite", "intacct"), default="ledger")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.deals, args.seed, args.database_url, args.erp)
    if args.json:
        print(json.dumps(result))
        return
    print(f"deals               {result['deals']}  (ERP: {result['erp']})")
    print(f"deals per second    {result['deals_per_s']}")
    for system, value in result["calls_per_deal"].items():
        print(f"{system:<10} calls/deal {value}")
    if result["erp_floor_per_deal"] is not None:
        print(f"erp floor/deal      {result['erp_floor_per_deal']}  (records created; calls are "
              f"{result['erp_calls_over_floor']}x that)")
    print(f"engine ms per deal  {result['engine_ms_per_deal']}  (closebot's own CPU)")
    print(f"connector ms/deal   {result['connector_ms_per_deal']}  (vendor clients + ledger)")
    for system, spent in result["connector_ms_by_system"].items():
        print(f"  {system:<17} {spent}")
    print(f"total CPU ms/deal   {result['total_cpu_ms_per_deal']}")
    print(f"peak RSS (MB)       {result['peak_rss_mb']}")
    print(f"wall time (s)       {result['wall_s']}")
    print(f"deal statuses       {result['statuses']}")


if __name__ == "__main__":
    main()
