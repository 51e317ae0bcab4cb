"""Chaos benchmark: `python -m bench.chaos --deals 2000 --fault-rate 0.1 --kills 20 --seed S`
[--erp netsuite|intacct].

1. The emulators run in a child process (`sandbox.serve`) with a generated book of deals.
2. Fault proxies (`sandbox.faults`) sit in front of Salesforce (TLS-terminating) and Stripe
   (and NetSuite or Sage Intacct with `--erp netsuite|intacct`),
   injecting 429 + Retry-After, 5xx, resets, responses slower than the client timeout, and
   forwarded-but-dropped responses, seeded by `--seed`.
3. `--replicas` worker processes (`app.worker_process`) run the pipeline on one database with
   short leases; the crash harness SIGKILLs a random one `--kills` times and restarts it.
4. Meanwhile people approve `--credits` credits on open invoices (`bench.chaos_credits`): each
   approval arms a credit step that the faulted, killed workers must apply exactly once.
4b. With `--cash N`, customers pay N invoices by card, some are refunded or disputed, Stripe
   pays the balance out, and the workers are killed `--cash-kills` more times while they book
   it (`bench.chaos_cash`); the cash audit's verdict joins the rest.
5. Faults off; the workers finish, are stopped with SIGTERM, and a clean final pass drains what
   is left (`closebot sync --once`, compressed). Then `closebot audit` is the verdict, with the
   credits' own: every approved credit applied once, one Stripe credit note each.
6. The money audit's part of that verdict (`bench.chaos_money`): its variances by kind and, per
   currency, what Salesforce booked, Stripe billed and the ERP ordered, and what Stripe and the
   ERP hold open, which must tie out to the cent.
Prints duplicates, lost deals, unbalanced entries, the money audit, retries, exceptions, alerts
and wall time (`--json`: one object). Target: zero duplicates, zero lost, zero unbalanced and a
clean money audit for every seed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from app.jobs import run_job
from app.settings import Settings
from app.wiring import build_runtime, open_database
from bench.chaos_cash import Stripe, act, cash_verdict, open_invoices, plant_double_post
from bench.chaos_credits import approve_one, credit_deps, unapplied, verdict
from bench.chaos_money import money_verdict
from bench.pipeline import start_sandbox
from sandbox.crash import CrashHarness
from sandbox.faults import FaultPlan, FaultProxy
from sandbox.server import LocalCA
from storage.db import transaction
from storage.tables import Deal, SyncRun, WorkItem
from storage.timeutil import utcnow
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit

WORKER_ENV = {
    "LEASE_S": "3", "STRIPE_TIMEOUT_S": "2", "SALESFORCE_TIMEOUT_S": "2",
    "NETSUITE_TIMEOUT_S": "2", "INTACCT_TIMEOUT_S": "2", "MAX_ATTEMPTS": "40",
    "BACKOFF_BASE_S": "0.2", "BACKOFF_MAX_S": "2", "WORKER_INTERVAL_S": "1",
    "INTAKE_INTERVAL_S": "2", "EVENTS_INTERVAL_S": "5", "RECONCILE_INTERVAL_S": "10",
    "JOB_LEASE_S": "20", "BATCH_SIZE": "10", "LOG_JSON": "true",
}


def unsettled(sessions: Any, deals: int) -> int:
    """How many deals are not taken in yet, plus how many work items are still due or running."""
    with transaction(sessions) as session:
        seen = session.scalar(select(func.count()).select_from(Deal)) or 0
        open_items = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status.in_(("pending", "running")))) or 0
    return max(deals - seen, 0) + open_items


def final_pass(rt: Runtime, *, rounds: int = 30) -> None:
    """Faults are off: everything still pending is made due now and run, until nothing is."""
    for _ in range(rounds):
        with transaction(rt.sessions) as session:
            session.execute(update(WorkItem).where(WorkItem.status == "pending")
                            .values(next_attempt_at=utcnow()))
        for name in ("intake", "worker", "billing_events", "reconcile", "worker", "cash"):
            run_job(rt, name)
        if unsettled(rt.sessions, 0) == 0:
            return


def retries(sessions: Any) -> int:
    with transaction(sessions) as session:
        attempts = session.scalar(select(func.coalesce(func.sum(WorkItem.attempts), 0))) or 0
        failed = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status == "exception")) or 0
    return int(attempts) - int(failed)


def run(
    deals: int, *, fault_rate: float, kills: int, seed: int, replicas: int = 1,
    database_url: str | None = None, settle_s: float = 240.0, log_dir: Path | None = None,
    kill_gap: tuple[float, float] = (0.5, 2.5), extra_env: dict[str, str] | None = None,
    erp: str = "ledger", credits: int = 0, cash: int = 0, cash_kills: int = 0,
    plant: str | None = None,
) -> dict[str, Any]:
    wall0 = time.perf_counter()
    proc, env = start_sandbox(deals, seed, erp)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="closebot-chaos-") as tmp:
        stack.callback(lambda: (proc.stdin and proc.stdin.close(), proc.wait(timeout=30)))
        kinds = ("429", "500", "502", "503", "reset", "slow", "drop_response")
        plan = FaultPlan(rate=fault_rate, seed=seed, kinds=kinds, retry_after=1, slow_seconds=3)
        ca = LocalCA()
        stack.callback(ca.close)
        sf_proxy = stack.enter_context(FaultProxy(
            env["SALESFORCE_INSTANCE_URL"], plan, upstream_ca=env["SALESFORCE_CA_BUNDLE"], tls=ca))
        stripe_proxy = stack.enter_context(FaultProxy(
            env["STRIPE_API_BASE"], FaultPlan(**{**plan.__dict__, "seed": seed + 1}),
            errors="stripe"))
        url = database_url or f"sqlite:///{Path(tmp) / 'chaos.db'}"
        proxied = {**env, "SALESFORCE_INSTANCE_URL": sf_proxy.url,
                   "SALESFORCE_CA_BUNDLE": str(ca.bundle_path), "STRIPE_API_BASE": stripe_proxy.url,
                   "DATABASE_URL": url, "STRIPE_RATE_PER_S": "0", "SALESFORCE_RATE_PER_S": "0"}
        proxies = {"salesforce": sf_proxy, "stripe": stripe_proxy}
        if erp == "netsuite":
            ns_proxy = stack.enter_context(FaultProxy(
                env["NETSUITE_BASE_URL"], FaultPlan(**{**plan.__dict__, "seed": seed + 2}),
                upstream_ca=env["NETSUITE_CA_BUNDLE"], tls=ca, keep_host=True))
            proxies["netsuite"] = ns_proxy
            proxied.update(NETSUITE_BASE_URL=ns_proxy.url, NETSUITE_CA_BUNDLE=str(ca.bundle_path))
        if erp == "intacct":
            root, api = env["INTACCT_BASE_URL"].split("/ia/", 1)
            ia_proxy = stack.enter_context(FaultProxy(
                root, FaultPlan(**{**plan.__dict__, "seed": seed + 2}),
                upstream_ca=env["INTACCT_CA_BUNDLE"], tls=ca, keep_host=True))
            proxies["intacct"] = ia_proxy
            proxied.update(INTACCT_BASE_URL=f"{ia_proxy.url}/ia/{api}",
                           INTACCT_CA_BUNDLE=str(ca.bundle_path))
        settings = Settings(**{k.lower(): v for k, v in {**proxied, **WORKER_ENV}.items()})
        engine, sessions = open_database(settings)  # migrate once, before any worker starts
        stack.callback(engine.dispose)
        harness = CrashHarness({**proxied, **WORKER_ENV, **(extra_env or {})},
                               replicas=replicas, seed=seed, log_dir=log_dir)
        harness.start()
        workers_started = time.monotonic()
        deps, credited = credit_deps(settings, sessions), set[str]()
        for n in range(max(kills, credits)):
            time.sleep(harness.next_gap(*kill_gap))
            if n < kills:
                harness.kill_random()
            while len(credited) < credits * (n + 1) // max(kills, credits, 1) and approve_one(
                    deps, credited):
                pass
        while len(credited) < credits and time.monotonic() < workers_started + settle_s / 2:
            if not approve_one(deps, credited):
                time.sleep(0.5)
        acted = Counter[str]()
        if cash:
            # Customers pay once their invoices are out; then refunds, disputes and payouts,
            # with more kills while the workers read and book them.
            # Moving Stripe's clock ahead of the workers' (a sandbox's liberty) would date a
            # credit still in flight days after the workers' today: credits land first.
            while (len(paying := open_invoices(sessions, cash, credited)) < cash
                   or unapplied(sessions)) and time.monotonic() < workers_started + settle_s / 2:
                time.sleep(0.5)
            acted = act(Stripe(env["STRIPE_API_BASE"], env["STRIPE_API_KEY"]), paying)
            for _ in range(cash_kills):
                time.sleep(harness.next_gap(*kill_gap))
                harness.kill_random()
        # Half the settle time with faults still on, then none, so the workers can finish.
        faults_off_at = time.monotonic() + settle_s / 2
        deadline = time.monotonic() + settle_s
        while unsettled(sessions, deals) and time.monotonic() < deadline:
            if time.monotonic() > faults_off_at:
                for proxy in proxies.values():
                    proxy.set_plan(FaultPlan())
            time.sleep(0.5)
        for proxy in proxies.values():
            proxy.set_plan(FaultPlan())
        exit_codes = harness.stop()
        worker_phase_s = time.monotonic() - workers_started
        with transaction(sessions) as session:
            stuck = session.scalar(select(func.count()).select_from(WorkItem).where(
                WorkItem.status == "running")) or 0
            intake_runs = session.scalar(select(func.count()).select_from(SyncRun).where(
                SyncRun.job == "intake")) or 0
        rt = build_runtime(settings, sessions)
        final_pass(rt)
        report = run_audit(rt)
        credit_verdict = verdict(rt, sessions)
        result = {
            "deals": deals, "duplicates": report.duplicates, "lost": len(report.lost),
            "unbalanced": len(report.unbalanced), "retries": retries(sessions),
            "exceptions": report.open_exceptions, "alerts": report.alerts,
            "wall_s": round(time.perf_counter() - wall0, 1),
            "seed": seed, "kills": harness.kills, "replicas": replicas, "erp": erp,
            "faults": dict(sum((proxy.injected for proxy in proxies.values()), Counter())),
            "faults_by_system": {name: sum(proxy.injected.values())
                                 for name, proxy in proxies.items()},
            "leased_after_sigterm": stuck, "worker_exit_codes": exit_codes,
            "worker_phase_s": round(worker_phase_s, 1), "intake_runs_by_workers": intake_runs,
            "credits": credit_verdict,
            "money": (money := money_verdict(report)),
            "cash": (cashed := cash_verdict(report, acted)),
            "audit_ok": report.ok and money["ok"] and not credit_verdict["duplicate_notes"]
            and not credit_verdict["lost"] and cashed["ok"],
            "problems": report.problems()[:20],
        }
        if plant == "double_post" and plant_double_post(rt):
            # The oracle must see a planted bug: the same run, audited again after it.
            result["cash_after_plant"] = cash_verdict(run_audit(rt), acted)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--erp", choices=("ledger", "netsuite", "intacct"), default="ledger")
    parser.add_argument("--credits", type=int, default=20,
                        help="credits approved while the workers are faulted and killed")
    parser.add_argument("--cash", type=int, default=0,
                        help="invoices paid by card, then refunded, disputed and paid out")
    parser.add_argument("--cash-kills", type=int, default=0,
                        help="more kills while the workers book payments and payouts")
    parser.add_argument("--settle-s", type=float, default=600.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.deals, fault_rate=args.fault_rate, kills=args.kills, seed=args.seed,
                 replicas=args.replicas, database_url=args.database_url, settle_s=args.settle_s,
                 erp=args.erp, credits=args.credits, cash=args.cash, cash_kills=args.cash_kills)
    if args.json:
        print(json.dumps(result))
        raise SystemExit(0 if result["audit_ok"] else 1)
    for key, value in result.items():
        print(f"{key:<22}{value}")
    raise SystemExit(0 if result["audit_ok"] else 1)


if __name__ == "__main__":
    main()
