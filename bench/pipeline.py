"""Pipeline benchmark: `python -m bench.pipeline --deals 5000 [--erp netsuite|intacct]
[--erp-latency-ms 50] [--concurrency-limit 5] [--json]`.

The emulators run in a child process with a generated book; this process runs the real pipeline
(intake → bill → post → write-back) against them on a fresh SQLite database until every deal is
settled, and reports throughput, external calls per deal, the engine's own CPU time per deal
(excluding time spent waiting on the servers) and peak RSS.

On NetSuite or Sage Intacct it also reports the ERP's floor (one request per record written) and
how far the calls are above it, and the in-flight utilisation: the ERP emulator takes at most
`--concurrency-limit` requests at once (429 beyond) and holds each for `--erp-latency-ms`, so at
best it serves limit / latency requests a second; utilisation is the requests it served per
second while closebot had any ERP request open, over that bound.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime, open_database
from storage.db import transaction
from storage.tables import Deal


def start_sandbox(deals: int, seed: int, erp: str = "ledger", *, erp_latency_ms: float = 0.0,
                  concurrency_limit: int = 5) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--deals", str(deals), "--seed", str(seed),
         "--erp", erp, "--erp-latency-ms", str(erp_latency_ms),
         "--erp-concurrency-limit", str(concurrency_limit)],
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
        # Posts run several ERP requests at once: each thread's CPU is its own, and so is its
        # nesting depth.
        self._local = threading.local()
        self._lock = threading.Lock()
        # (start, end) of every ERP HTTP request, timed inside the connector's concurrency
        # slot: what the ERP sees in flight.
        self.erp_spans: list[tuple[float, float]] = []
        rt.crm._call = self._wrap("salesforce", rt.crm._call)
        rt.billing._call = self._wrap("stripe", rt.billing._call)
        if hasattr(rt.erp, "_call"):  # NetSuite, Intacct: every HTTP request, lookups included
            rt.erp._call = self._wrap("erp", rt.erp._call)
            rt.erp.http.request = self._timed(rt.erp.http.request)
        else:
            for name in self.ERP_METHODS:
                setattr(rt.erp, name, self._wrap("erp", getattr(rt.erp, name)))

    @property
    def seconds(self) -> float:
        return sum(self.by_system.values())

    def erp_busy_seconds(self) -> float:
        """Wall time during which at least one ERP request was open."""
        busy, reach = 0.0, float("-inf")
        for start, end in sorted(self.erp_spans):
            if end > reach:
                busy += end - max(start, reach)
                reach = end
        return busy

    def _wrap(self, system: str, func: Any) -> Any:
        def metered(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            started = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:
                    with self._lock:
                        self.by_system[system] += time.thread_time() - started

        return metered

    def _timed(self, func: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                with self._lock:
                    self.erp_spans.append((started, time.perf_counter()))

        return timed


def run(deals: int, seed: int = 7, database_url: str | None = None,
        erp: str = "ledger", *, erp_latency_ms: float = 0.0,
        concurrency_limit: int = 5) -> dict[str, Any]:
    proc, env = start_sandbox(deals, seed, erp, erp_latency_ms=erp_latency_ms,
                              concurrency_limit=concurrency_limit)
    served: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="closebot-bench-") as tmp:
            url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            overrides: dict[str, Any] = {k.lower(): v for k, v in env.items()}
            # The emulators have no rate limits; measure the engine, not the token buckets
            # (bench.chaos measures those).
            overrides.update(stripe_rate_per_s=0, salesforce_rate_per_s=0,
                             netsuite_concurrency=concurrency_limit,
                             intacct_concurrency=concurrency_limit)
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
        if proc.stdout and erp != "ledger":
            last = proc.stdout.readline()
            served = json.loads(last) if last.strip() else {}
        proc.wait(timeout=30)
    crm, billing, books = rt.crm, rt.billing, rt.erp
    erp_figures = _erp_figures(meter, served, erp_latency_ms, concurrency_limit)
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
        **erp_figures,
    }


def _erp_figures(meter: ConnectorMeter, served: dict[str, Any], latency_ms: float,
                 limit: int) -> dict[str, Any]:
    """Requests the ERP served a second while closebot had any open, against what the limit
    allows: `limit / latency`, at the emulator's nominal latency and at the round trip closebot
    measured (which adds the emulator's own work, TLS and the wire: on a busy machine, more)."""
    if not served:
        return {}
    calls: dict[str, int] = served.get("erp_calls", {})
    answered = sum(n for kind, n in calls.items() if kind not in ("throttled", "token"))
    busy = meter.erp_busy_seconds()
    throughput = answered / busy if busy else 0.0
    spans = meter.erp_spans
    round_trip = sum(end - start for start, end in spans) / len(spans) if spans else 0.0
    allowed = limit / (latency_ms / 1000) if latency_ms > 0 else None
    allowed_measured = limit / round_trip if round_trip else None
    return {
        "erp_latency_ms": latency_ms,
        "erp_round_trip_ms": round(round_trip * 1000, 1),
        "erp_concurrency_limit": limit,
        "erp_requests_served": answered,
        "erp_throttled": calls.get("throttled", 0),
        "erp_peak_in_flight": served.get("erp_peak_in_flight"),
        "erp_busy_s": round(busy, 2),
        "erp_requests_per_s": round(throughput, 1),
        "erp_allowed_per_s": round(allowed, 1) if allowed else None,
        "erp_utilisation": round(throughput / allowed, 3) if allowed else None,
        # = requests in flight on average while any was, over the limit (Little's law)
        "erp_utilisation_measured": (round(throughput / allowed_measured, 3)
                                     if allowed_measured else None),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--erp", choices=("ledger", "netsuite", "intacct"), default="ledger")
    parser.add_argument("--erp-latency-ms", type=float, default=0.0,
                        help="how long the ERP emulator holds each request (NetSuite, Intacct)")
    parser.add_argument("--concurrency-limit", type=int, default=5,
                        help="requests the ERP emulator takes at once; closebot's share too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.deals, args.seed, args.database_url, args.erp,
                 erp_latency_ms=args.erp_latency_ms, concurrency_limit=args.concurrency_limit)
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
    if "erp_utilisation" in result:
        print(f"erp in flight       limit {result['erp_concurrency_limit']}, latency "
              f"{result['erp_latency_ms']} ms, peak {result['erp_peak_in_flight']}, "
              f"throttled {result['erp_throttled']}")
        print(f"erp throughput      {result['erp_requests_per_s']} requests/s over "
              f"{result['erp_busy_s']} s busy (the limit allows {result['erp_allowed_per_s']}); "
              f"utilisation {result['erp_utilisation']}")
        print(f"erp round trip      {result['erp_round_trip_ms']} ms measured; utilisation at "
              f"that latency {result['erp_utilisation_measured']} (mean in flight / limit)")
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
