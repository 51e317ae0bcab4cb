"""`closebot demo`: the whole pipeline on the embedded default, with nothing to configure."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.scheduler import build_scheduler
from app.settings import Settings
from app.wiring import build_runtime, open_database
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, WorkItem
from sync.money import format_money, to_minor
from sync.ops.report import deal_summaries

SETTLED = ("synced", "awaiting_approval", "exception", "rejected")
ERP_NAMES = {"ledger": "Ledger", "netsuite": "NetSuite", "intacct": "Sage Intacct"}


def run_demo(*, database_url: str | None = None, timeout_s: float = 60.0,
             erp: str = "ledger") -> dict[str, Any]:
    with (tempfile.TemporaryDirectory(prefix="closebot-demo-") as tmp,
          SandboxStack(erp=erp) as stack):
        url = database_url or f"sqlite:///{Path(tmp) / 'closebot-demo.db'}"
        seeder = BookSeeder(stack.salesforce)
        opportunity_ids = [seeder.seed(deal) for deal in demo_deals()]
        settings = Settings(database_url=url, **stack.settings_overrides())  # type: ignore[arg-type]
        engine, sessions = open_database(settings)
        rt = build_runtime(settings, sessions)
        scheduler = build_scheduler(rt, intake_s=1, worker_s=0.5, events_s=1, books_s=None)
        scheduler.start()
        try:
            _wait(lambda: _settled(sessions, len(opportunity_ids)), timeout_s)
        finally:
            scheduler.shutdown(wait=True)
        with transaction(sessions) as session:
            deals = deal_summaries(session, erp=rt.erp.name)
        engine.dispose()
        return {
            "database": "temporary SQLite" if database_url is None else database_url,
            "erp": rt.erp.name,
            "deals": deals,
            "api_calls": {
                "salesforce": dict(stack.salesforce.calls),
                "stripe": sum(stack.stripe.calls.values()),
            },
            "slack": [_slack_line(d) for d in deals if d["status"] != "synced"],
        }


def _settled(sessions: Any, expected: int) -> bool:
    with transaction(sessions) as session:
        deals = session.scalar(select(func.count()).select_from(Deal).where(
            Deal.status.in_(SETTLED)))
        busy = session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status.in_(("pending", "running"))))
    return deals == expected and busy == 0


def _wait(done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.25)
    raise TimeoutError("the demo pipeline did not settle in time")


def _slack_line(deal: dict[str, Any]) -> str:
    if deal["status"] == "awaiting_approval" and deal["approval"]:
        reasons = "; ".join(deal["approval"]["reasons"])
        return f"#finance-approvals: approval needed for {deal['name']}: {reasons}"
    if deal["exception"]:
        return f"#finance-alerts: {deal['exception']}"
    return f"#finance-alerts: {deal['name']} is {deal['status']}"


def _money(amount: str, currency: str) -> str:
    return format_money(to_minor(Decimal(amount), currency), currency)


def render_text(summary: dict[str, Any]) -> str:
    erp = ERP_NAMES[summary["erp"]]
    out = [f"closebot demo: Salesforce → Stripe → {erp} on local stand-ins", ""]
    for d in summary["deals"]:
        out.append(f"● {d['name']}  ({d['opportunity_id']})")
        out.append(f"    {_money(d['amount'], d['currency'])}  status: {d['status'].upper()}")
        for o in d["obligations"]:
            periods = f"{o['periods']} invoice{'s' if o['periods'] != 1 else ''}"
            kind = f"recurring, {periods}" if o["recurring"] else "one-time"
            out.append(f"    - {o['product']}: {_money(o['amount'], d['currency'])} ({kind})")
        s, e = d["stripe"], d["erp"]
        if s["customer"]:
            out.append(f"    Stripe: customer {s['customer']}, subscription {s['subscription']}, "
                       f"invoices {', '.join(s['invoices']) or '-'}")
        if e["sales_order"]:
            out.append(f"    {erp}: customer {e['customer']}, sales order {e['sales_order']}, "
                       f"invoices {', '.join(e['invoices']) or '-'}")
        for inv in d["invoices"]:
            out.append(f"    Invoice {inv['number']}: {inv['status']}, total {inv['total']}, "
                       f"outstanding {inv['outstanding']}")
        if d["approval"] and d["status"] == "awaiting_approval":
            out.append(f"    Awaiting approval: {'; '.join(d['approval']['reasons'])}")
        if d["exception"]:
            out.append(f"    Exception: {d['exception']}")
        out.append("")
    out.append("Would post to Slack:")
    out += [f"  {line}" for line in summary["slack"]] or ["  (nothing)"]
    return "\n".join(out)
