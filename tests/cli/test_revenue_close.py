"""Month-end close as a person runs it: `closebot close --period`, on the seed deal.

The seed deal (Implementation Services USD 20,000 on delivery at the start + Platform
Subscription USD 100,000 over 10 months, one invoice of 120,000 up front) starts on day S; P1 is
S's month. Worked by hand:
- Synced on S: Cr Deferred 120,000 (invoice), Dr Deferred 20,000 (implementation, on S).
- Closed on the 1st of the next month: the subscription's first month ends in P1 only when S is
  the 1st (then the close itself posts it, 10,000). Roll-forward P1: opening 0 + billings 120,000
  - credits 0 - recognized 20,000 (30,000 when S is the 1st) = closing 100,000 (90,000), which
  is Deferred Revenue in the trial balance on P1's last day. Re-run: nothing posted, same numbers.
- A late credit of USD 5,000 dated S (a day in the closed P1) posts on the first day of P2 with a
  note naming its own day; P1's roll-forward is unchanged, and P2's shows it under credits:
  opening (P1's closing) + 0 - 5,000 - recognized in P2 = closing = the general ledger.
- A date in the closed period asked for by a person (a delivery) is refused in one line.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from storage.ledger import LedgerJournalEntry
from sync.ledger import Ledger
from tests.cli.conftest import clean_env, closebot, succeeds

K = 100_000  # USD 1,000.00 in cents


def _first_of_next(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _close(env: dict[str, str], cwd: Path, period: str) -> dict:
    done = closebot("close", "--period", period, "--by", "controller@acme.example", "--json",
                    env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _ok(env: dict[str, str], cwd: Path, *args: str) -> str:
    return succeeds(*args, env=env, cwd=cwd)


def test_close_locks_the_month_and_ties_deferred_revenue(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        deal = demo_deals()[0]
        start = deal.start
        BookSeeder(stack.salesforce).seed(deal)
        db = tmp_path / "close.db"
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{db}")
        _ok(env, tmp_path, "sync", "--once")
        p1, p2_start = f"{start:%Y-%m}", _first_of_next(start)
        p2 = f"{p2_start:%Y-%m}"

        early = closebot("close", "--period", p1, env=env, cwd=tmp_path)
        assert early.returncode == 1 and "before it has ended" in early.stderr

        _ok(env, tmp_path, "sandbox", "advance", "--days", str((p2_start - start).days))
        first_month = 10 * K if start.day == 1 else 0
        report = _close(env, tmp_path, p1)
        assert (report["revenue_entries_posted"], report["already_closed"]) == (
            1 if first_month else 0, False)
        expected = {"currency": "USD", "opening": 0, "billings": 120 * K, "credits": 0,
                    "recognized": 20 * K + first_month, "closing": 100 * K - first_month,
                    "ledger_balance": 100 * K - first_month, "ties": True}
        assert report["roll_forward"] == [expected]
        again = _close(env, tmp_path, p1)
        assert (again["revenue_entries_posted"], again["already_closed"]) == (0, True)
        assert again["roll_forward"] == [expected]
        text = _ok(env, tmp_path, "close", "--period", p1)
        assert "= closing    USD " in text and "ties" in text

        # A late credit dated in the closed month, as the credit step would post it.
        [invoice] = stack.stripe.objects("invoice")
        sessions = sessionmaker(create_engine(f"sqlite:///{db}"))
        Ledger(sessions).post_credit_memo(
            external_id="cn_late_1", invoice_external_id=invoice["id"], amount_minor=5 * K,
            currency="USD", reason="service credit", posted_on=start)
        with sessions() as s:
            entry = s.scalar(select(LedgerJournalEntry).where(
                LedgerJournalEntry.source_type == "credit_memo"))
            assert entry is not None and entry.posted_on == p2_start
            assert f"(dated {start.isoformat()}, in closed period {p1})" in entry.memo
        assert _close(env, tmp_path, p1)["roll_forward"] == [expected]

        _ok(env, tmp_path, "sandbox", "advance", "--days",
            str((_first_of_next(p2_start) - p2_start).days))
        [rf] = _close(env, tmp_path, p2)["roll_forward"]
        assert (rf["opening"], rf["billings"], rf["credits"]) == (100 * K - first_month, 0, 5 * K)
        assert rf["closing"] == rf["opening"] - rf["credits"] - rf["recognized"]
        assert rf["closing"] == rf["ledger_balance"] and rf["ties"]
