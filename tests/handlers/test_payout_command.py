"""`/payout` through signed HTTP: the Stripe emulator's payouts broken down from their balance
transactions, and their bank match status from an imported statement.

The book of tests/integration/test_bank_payouts.py, worked by hand there:
    payout 1: gross 1,000.00 + 2,500.00 + 400.00 = 3,900.00; fees 29.30 + 72.80 + 11.90 = 114.00;
              net 3,786.00 = the payout; matched to the bank line of Jan 5.
    payout 2: gross 120.00, fees 3.78, net 116.22; arrives Jan 9, matched by its trace.
    payout 3: gross 75.00, fees 2.48, net 72.52; due Jan 10, no line in a statement running to
              Jan 14: missing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sandbox.slack import SlackRecorder
from sandbox.stripe import StripeEmulator
from sync.cash.bank_lines import parse_statement
from sync.connectors.stripe_payouts import StripePayouts
from sync.engine.bank import import_statement
from tests.handlers.conftest import Harness, slack_settings, start, wait_for
from tests.integration.test_bank_payouts import START, _payouts, _statement

HOUR = 3_600


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(start_time=START + HOUR) as emulator:
        yield emulator


@pytest.fixture
def paid(emu: StripeEmulator, recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, list]]:
    found = _payouts(emu)
    source = StripePayouts(api_key=emu.api_key, api_base=emu.url)
    import_statement(sessions, parse_statement(_statement(found[1].trace_id.value)), source)
    settings = slack_settings(recorder, db_url, stripe_api_key=emu.api_key,
                              stripe_api_base=emu.url)
    for harness in start(settings, sessions, recorder):
        yield harness, found


def _answer(harness: Harness, text: str, n: int) -> str:
    assert harness.slack.command("/payout", text).status_code == 200
    payload = wait_for(lambda: harness.recorder.responses()[n:], timeout=20)[0]["payload"]
    return str(payload)


def test_payout_breakdown_and_bank_status(paid: tuple[Harness, list]) -> None:
    harness, (one, two, three) = paid
    first = _answer(harness, one.id, 0)
    assert f"Payout {one.id}: USD 3,786.00, arriving 2026-01-05 (paid)" in first
    assert "*Gross*\\nUSD 3,900.00" in first and "*Fees*\\nUSD -114.00" in first
    assert "*Net*\\nUSD 3,786.00" in first and "Refunds" not in first
    assert "Its 3 balance transactions add up to the payout." in first
    assert "Bank: matched to the line of 2026-01-05 (`4000123456:B-0105-1`, by amount and " \
           "date)." in first

    by_date = _answer(harness, "2026-01-09", 1)
    assert f"Payout {two.id}: USD 116.22, arriving 2026-01-09 (paid)" in by_date
    assert "*Fees*\\nUSD -3.78" in by_date and "by reference" in by_date

    missing = _answer(harness, three.id, 2)
    assert "*Net*\\nUSD 72.52" in missing
    assert "Bank: *no line* though the statements imported run to 2026-01-14" in missing


def test_payout_usage_and_unknown(paid: tuple[Harness, list]) -> None:
    harness, _ = paid
    usage = harness.slack.command("/payout", "yesterday").json()
    assert "Usage: `/payout &lt;payout ID or arrival date&gt;`" in usage["text"]
    assert "No Stripe payout matches “po_nothing”" in _answer(harness, "po_nothing", 0)
    assert "No Stripe payout matches “2025-12-25”" in _answer(harness, "2025-12-25", 1)
