"""`closebot fx import` and `fx show` as a person runs them, on a database of their own."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select

from storage.fx_tables import FxRate
from tests.cli.conftest import clean_env, closebot, lines, succeeds

ECB = """Date,USD,JPY,GBP,
2026-01-30,1.1000,162.10,0.8500,
2026-01-29,1.0990,N/A,0.8510,
"""


def _count(db: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(FxRate.__table__))
    engine.dispose()
    return int(count or 0)


def test_import_is_idempotent_and_a_broken_line_imports_nothing(tmp_path: Path) -> None:
    db = tmp_path / "fx.db"
    env = clean_env(DATABASE_URL=f"sqlite:///{db}")
    ecb = tmp_path / "eurofxref-hist.csv"
    ecb.write_text(ECB)
    # 2 days x 3 currencies, less JPY on the 29th (N/A): 5 rates.
    out = succeeds("fx", "import", str(ecb), env=env, cwd=tmp_path)
    assert "5 rates added, 0 already loaded (3 currency pairs, 2026-01-29 to 2026-01-30)" in out
    again = succeeds("fx", "import", str(ecb), env=env, cwd=tmp_path)
    assert "0 rates added, 5 already loaded" in again
    assert _count(db) == 5

    # A Sunday takes Friday's rate; a pair across the ECB's base (GBP/USD = 1.1 / 0.85).
    shown = succeeds("fx", "show", "--on", "2026-02-01", "--pair", "EUR/USD", env=env,
                     cwd=tmp_path)
    assert shown.strip() == "EUR/USD on 2026-02-01: 1.1"
    cross = succeeds("fx", "show", "--on", "2026-01-30", "--pair", "GBP/USD", env=env,
                     cwd=tmp_path)
    assert cross.strip() == "GBP/USD on 2026-01-30: 1.294117647059"
    stale = closebot("fx", "show", "--on", "2026-02-20", "--pair", "EUR/USD", env=env,
                     cwd=tmp_path)
    assert stale.returncode == 1
    assert "no EUR/USD exchange rate for 2026-02-20" in stale.stderr

    simple = tmp_path / "rates.csv"
    simple.write_text("date,base,quote,rate\n2026-02-02,EUR,USD,1.1010\n"
                      "2026-02-03,EUR,USD,one point one\n")
    broken = closebot("fx", "import", str(simple), env=env, cwd=tmp_path)
    assert broken.returncode == 1
    assert lines(broken.stderr) == [
        "closebot: rates.csv: line 3: EUR/USD rate “one point one” is not a number; "
        "nothing was imported"]
    assert _count(db) == 5  # not even line 2

    moved = tmp_path / "moved.csv"
    moved.write_text("date,base,quote,rate\n2026-02-02,EUR,USD,1.1010\n"
                     "2026-01-30,EUR,USD,1.2000\n")
    refused = closebot("fx", "import", str(moved), env=env, cwd=tmp_path)
    assert refused.returncode == 1
    assert "EUR/USD on 2026-01-30 is already loaded at 1.1, the file says 1.2;" in refused.stderr
    assert _count(db) == 5
