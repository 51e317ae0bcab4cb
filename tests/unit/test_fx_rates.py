"""Reading rates files: the ECB's as published, and date,base,quote,rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sync.ledger.fx_rates import FxFileError, Rate, parse


def test_the_ecbs_file_as_published() -> None:
    # The ECB's hist file: a byte-order mark on some downloads, a trailing comma on every row,
    # N/A where a currency wasn't quoted that day.
    text = "\ufeffDate,USD,JPY,\n2026-01-30,1.1000,N/A,\n2026-01-29,1.0990,161.20,\n"
    assert parse(text) == [
        Rate(date(2026, 1, 30), "EUR", "USD", Decimal("1.1000")),
        Rate(date(2026, 1, 29), "EUR", "USD", Decimal("1.0990")),
        Rate(date(2026, 1, 29), "EUR", "JPY", Decimal("161.20")),
    ]
    assert all(isinstance(r.rate, Decimal) for r in parse(text))


def test_a_simple_file_of_any_pair() -> None:
    assert parse("date,base,quote,rate\n2026-01-30,gbp,usd,1.2650\n\n") == [
        Rate(date(2026, 1, 30), "GBP", "USD", Decimal("1.2650"))]


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("when,what\n", "line 1: expected the ECB's header"),
    ("Date,USD,XXQ\n", "line 1: column 3 “XXQ” is not an ISO 4217 currency"),
    ("Date,USD\n30/01/2026,1.1\n", "line 2: “30/01/2026” is not a date (YYYY-MM-DD)"),
    ("Date,USD\n2026-01-30,-1.1\n", "line 2: EUR/USD rate “-1.1” must be a positive number"),
    ("Date,USD\n2026-01-30,NaN\n", "line 2: EUR/USD rate “NaN” must be a positive number"),
    ("date,base,quote,rate\n2026-01-30,EUR,USD\n", "line 2: expected 4 values"),
    ("date,base,quote,rate\n2026-01-30,EUR,DOLLAR,1.1\n",
     "line 2: “DOLLAR” is not an ISO 4217 currency"),
    ("date,base,quote,rate\n2026-01-30,EUR,USD,1.1234567890123\n",
     "line 2: EUR/USD rate “1.1234567890123” has more than 12 decimals"),
])
def test_a_broken_line_is_named(text: str, message: str) -> None:
    with pytest.raises(FxFileError) as refused:
        parse(text)
    assert str(refused.value).startswith(message)
