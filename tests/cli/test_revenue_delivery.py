"""Point-in-time revenue on delivery, as a person runs it: `closebot deliver`, on the seed deal.

The seed deal: Implementation Services USD 20,000 (one-time, recognized on delivery) + Platform
Subscription USD 100,000 over 10 months, billed annually up front (one invoice of 120,000), with
RECOGNIZE_ON_DELIVERY on. The implementation is delivered on day 45 (start + 44 days). By hand:
- Signed and synced: Dr AR 120,000 / Cr Deferred 120,000; the implementation awaits delivery,
  nothing recognized. Trial balance: AR 120,000 Dr; Deferred 120,000 Cr.
- Marking it delivered before the contract starts, on a day still to come, or by someone not in
  DELIVERY_MARKERS: refused, one line each, nothing changes.
- Day 45 (one service month has ended): Dr Deferred 10,000 / Cr Subscription 10,000 (period 1).
  Delivered that day (marked, undone, marked again: each in the audit log), then synced:
  Dr Deferred 20,000 / Cr Services 20,000 dated day 45. Trial balance: AR 120,000 Dr; Deferred
  90,000, Subscription 10,000, Services 20,000 Cr. The day before, Services was still 0.
- Once recognized, the delivery can no longer be undone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, succeeds

K = 100_000  # USD 1,000.00 in cents
IMPL = "Implementation Services"
OPS = "ops@acme.example"


def _ok(env: dict[str, str], cwd: Path, *args: str) -> str:
    return succeeds(*args, env=env, cwd=cwd)


def _refused(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = closebot(*args, env=env, cwd=cwd)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stderr.strip()


def _balances(env: dict[str, str], cwd: Path, *args: str) -> dict[str, tuple[int, int]]:
    [usd] = json.loads(_ok(env, cwd, "books", "trial-balance", "--json", *args))["currencies"]
    assert usd["balanced"]
    return {a["name"]: (a["debit_minor"], a["credit_minor"]) for a in usd["accounts"]}


def test_implementation_recognized_on_its_delivery_day(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        deal = demo_deals()[0]
        start = deal.start
        BookSeeder(stack.salesforce).seed(deal)
        db = tmp_path / "delivery.db"
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{db}",
                        RECOGNIZE_ON_DELIVERY="true", DELIVERY_MARKERS=f"{OPS},cfo@acme.example")
        _ok(env, tmp_path, "sync", "--once")
        assert _balances(env, tmp_path) == {
            "Accounts Receivable": (120 * K, 0), "Deferred Revenue": (0, 120 * K)}
        schedule = json.loads(_ok(env, tmp_path, "books", "schedule", "acme", "--json"))
        [impl] = [o for o in schedule["obligations"] if o["description"] == IMPL]
        assert [p["state"] for p in impl["periods"]] == ["awaiting delivery"]

        early = (start - timedelta(days=1)).isoformat()
        assert "the contract starts on" in _refused(
            env, tmp_path, "deliver", "acme", IMPL, "--on", early, "--by", OPS)
        assert "a day still to come" in _refused(
            env, tmp_path, "deliver", "acme", IMPL, "--on",
            (start + timedelta(days=3)).isoformat(), "--by", OPS)
        assert "intern@acme.example may not mark deliveries" in _refused(
            env, tmp_path, "deliver", "acme", IMPL, "--by", "intern@acme.example")

        day45 = start + timedelta(days=44)
        _ok(env, tmp_path, "sandbox", "advance", "--days", "44")
        said = _ok(env, tmp_path, "deliver", "acme", IMPL, "--by", OPS)
        assert f"delivered on {day45:%d %b %Y}; USD 20,000.00 is recognized" in said
        assert "delivery undone" in _ok(env, tmp_path, "deliver", "acme", IMPL, "--undo",
                                        "--by", "cfo@acme.example")
        _ok(env, tmp_path, "deliver", "acme", IMPL, "--on", day45.isoformat(), "--by", OPS)
        _ok(env, tmp_path, "sync", "--once")

        assert _balances(env, tmp_path) == {
            "Accounts Receivable": (120 * K, 0), "Deferred Revenue": (0, 90 * K),
            "Subscription Revenue": (0, 10 * K), "Services Revenue": (0, 20 * K)}
        before = _balances(env, tmp_path, "--as-of", (day45 - timedelta(days=1)).isoformat())
        assert "Services Revenue" not in before
        assert "was recognized on" in _refused(
            env, tmp_path, "deliver", "acme", IMPL, "--undo", "--by", OPS)
        with create_engine(f"sqlite:///{db}").connect() as conn:
            trail = conn.execute(text(
                "SELECT actor, action FROM audit_log WHERE action LIKE 'revenue.%' ORDER BY id"
            )).all()
        assert [tuple(r) for r in trail] == [
            (OPS, "revenue.delivered"), ("cfo@acme.example", "revenue.delivery_undone"),
            (OPS, "revenue.delivered")]
