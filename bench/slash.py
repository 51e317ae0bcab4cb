"""`python -m bench.slash [--invoices N] [--json] [--database-url URL]`

Fills the invoice mirror with N invoices over N/20 customers, then times `/invoice-status` from
a signed request arriving to the response, through the real Bolt app (`App.dispatch`, signature
check included), by invoice number and by customer-name prefix. Prints p50 / p99 in ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import insert, text

from app.settings import Settings
from app.slack_app import create_app
from sandbox.slack import SlackRecorder
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.tables import BillingInvoice

SECRET = "bench-signing-secret"
SYLLABLES = ["ac", "me", "glo", "bex", "ini", "tech", "um", "brel", "la", "wayne", "stark",
             "ty", "rell", "cy", "ber", "dyne", "hoo", "li", "nex", "vo"]


def customer_name(n: int) -> str:
    rng = random.Random(n)
    word = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    return f"{word} {n:05d} Holdings"


def fill(url: str, invoices: int, *, per_customer: int = 20, batch: int = 20_000) -> None:
    engine = make_engine(url)
    upgrade(engine)
    start = date(2024, 1, 1)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM invoices"))
        rows: list[dict[str, Any]] = []
        for i in range(invoices):
            cust = i // per_customer
            name = customer_name(cust)
            rows.append({
                "billing_id": f"in_{i:010d}", "number": f"INV-{i:07d}",
                "opportunity_id": f"006{cust:012d}", "contract_version": 1,
                "account_id": f"001{cust:012d}", "customer_name": name,
                "customer_name_key": name.lower(), "billing_customer_id": f"cus_{cust:08d}",
                "subscription_id": None, "currency": "USD", "total_minor": 100_000 + i % 997,
                "amount_paid_minor": 0, "amount_remaining_minor": 100_000 + i % 997,
                "credited_minor": 0, "status": "open" if i % 3 else "paid",
                "issued_on": start + timedelta(days=i % 700),
                "due_on": start + timedelta(days=i % 700 + 30), "erp_invoice_id": None,
                "erp_paid_minor": 0, "lines": [],
            })
            if len(rows) == batch:
                conn.execute(insert(BillingInvoice), rows)
                rows = []
        if rows:
            conn.execute(insert(BillingInvoice), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE invoices"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def measure(app: Any, queries: list[str]) -> dict[str, float]:
    signer = SignatureVerifier(SECRET)
    timings = []
    for query in queries:
        body = urlencode({"command": "/invoice-status", "text": query, "user_id": "UBENCH",
                          "team_id": "T0CLOSEBOT", "channel_id": "C0BENCH",
                          "response_url": "https://hooks.invalid/x", "trigger_id": "1"})
        started = time.perf_counter()
        ts = str(int(time.time()))
        headers = {"x-slack-request-timestamp": [ts],
                   "x-slack-signature": [signer.generate_signature(timestamp=ts, body=body)],
                   "content-type": ["application/x-www-form-urlencoded"]}
        response = app.dispatch(BoltRequest(body=body, headers=headers))
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status == 200 and "INV-" in response.body, response.body[:300]
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2)}


def run(invoices: int, database_url: str | None, samples: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, SlackRecorder() as slack:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        fill(url, invoices)
        settings = Settings(database_url=url, slack_bot_token=slack.bot_token,
                            slack_signing_secret=SECRET, slack_api_url=slack.url + "/api/")
        engine = make_engine(url)
        app = create_app(settings, make_session_factory(engine), None)
        rng = random.Random(42)
        customers = max(1, invoices // 20)
        numbers = [f"INV-{rng.randrange(invoices):07d}" for _ in range(samples)]
        # A name prefix that picks one customer: "Acmegloty 01234" of "Acmegloty 01234 Holdings".
        names = [customer_name(rng.randrange(customers))[:-9] for _ in range(samples)]
        measure(app, numbers[:20] + names[:20])  # warm caches and connections
        result = {"invoices": invoices, "database": engine.dialect.name,
                  "by_number": measure(app, numbers), "by_name": measure(app, names)}
        engine.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.invoices, args.database_url, args.samples)
    if args.json:
        print(json.dumps({k: result[k] for k in ("invoices", "by_number", "by_name")}))
    else:
        print(f"{result['invoices']:,} invoices on {result['database']}")
        for key in ("by_number", "by_name"):
            print(f"  {key:<10} p50 {result[key]['p50_ms']:7.2f} ms   "
                  f"p99 {result[key]['p99_ms']:7.2f} ms")


if __name__ == "__main__":
    main()
