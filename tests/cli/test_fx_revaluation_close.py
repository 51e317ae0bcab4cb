"""`closebot close` on a USD ledger holding an open EUR invoice: the close prints the month-end
revaluation per currency, and `books trial-balance --functional` shows it on the last day.

The worked example of tests/unit/test_fx_revaluation.py: EUR 12,000.00 invoiced on 2026-01-02
at 1.0850 (USD 13,020.00), open on 2026-01-31 at 1.1000 (USD 13,200.00): Dr AR 180.00 / Cr
Unrealized FX Gain/Loss 180.00 dated 31 Jan, reversed on 1 Feb.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from sync.ledger import Ledger
from tests.cli.conftest import clean_env, closebot, succeeds
from tests.unit.test_fx_ledger import book_deal


def test_the_close_prints_the_revaluation_per_currency(tmp_path: Path) -> None:
    db = tmp_path / "fx.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{db}", FUNCTIONAL_CURRENCY="USD")
    rates = tmp_path / "rates.csv"
    rates.write_text("date,base,quote,rate\n2026-01-02,EUR,USD,1.0850\n"
                     "2026-01-30,EUR,USD,1.1000\n")
    succeeds("fx", "import", str(rates), env=env, cwd=tmp_path)
    engine = create_engine(f"sqlite:///{db}")
    book_deal(Ledger(sessionmaker(engine), functional_currency="USD"))
    engine.dispose()

    done = closebot("close", "--period", "2026-01", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["fx_revaluation"] == [
        {"currency": "EUR", "functional": "USD", "rate": "1.1", "balances": 1, "gain": 18_000}]
    text = succeeds("close", "--period", "2026-01", env=env, cwd=tmp_path)
    assert ("FX revaluation of EUR balances at 31 Jan 2026 (EUR/USD 1.1): 1 balance, "
            "unrealized gain USD 180.00, reversed 01 Feb 2026") in text
    trial = succeeds("books", "trial-balance", "--functional", "--as-of", "2026-01-31",
                     env=env, cwd=tmp_path)
    assert "Unrealized FX Gain/Loss" in trial and "180.00" in trial
    after = succeeds("books", "trial-balance", "--functional", "--as-of", "2026-02-01",
                     env=env, cwd=tmp_path)
    assert "Unrealized FX Gain/Loss" not in after
