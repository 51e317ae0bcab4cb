"""A bank statement matched to the Stripe emulator's payouts, through the real Stripe client and
the real `closebot bank import`, tied out to the cent.

Worked by hand first (card fees 2.9% + 30¢ rounded half up; funds available 2 days after a
charge; a payout of the whole available balance at each midnight, arriving the next midnight):
    Jan 1  charges 1,000.00 / 2,500.00 / 400.00, fees 29.30 / 72.80 / 11.90,
           nets 970.70 + 2,427.20 + 388.10 = 3,786.00  → payout 1, made Jan 4, arrives Jan 5
    Jan 5  charge 120.00, fee 3.78, net 116.22          → payout 2, made Jan 8, arrives Jan 9
    Jan 6  charge 75.00, fee 2.18 (2.175 half up) + 0.30 = 2.48, net 72.52
                                                        → payout 3, made Jan 9, arrives Jan 10
The bank statement (account 4000123456, USD):
    Jan 5  +3,786.00  STRIPE PAYOUT               ← payout 1 by amount and date
    Jan 9    +116.22  STRIPE <payout 2's trace>   ← payout 2 by its trace number
    Jan 14    -25.00  MONTHLY SERVICE FEE         ← no payout: an exception
Payout 3 (72.52, due Jan 10) has no line though the statement runs to Jan 14: an exception.
Matched: 3,786.00 + 116.22 = 3,902.22 in the bank = in Stripe's payouts = the nets of their
balance transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.stripe import StripeEmulator
from storage.bank_tables import BankLineRow
from sync.cash.bank_lines import parse_statement
from sync.cash.bank_match import BY_AMOUNT, BY_REFERENCE
from sync.connectors.stripe_payouts import StripePayouts
from sync.engine.bank import import_statement
from tests.cli.conftest import clean_env, closebot

START = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR, DAY = 3_600, 86_400
PAYOUT_1, PAYOUT_2, PAYOUT_3 = 378_600, 11_622, 7_252
MATCHED = PAYOUT_1 + PAYOUT_2  # 3,902.22


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(start_time=START + HOUR) as emulator:
        yield emulator
        assert not emulator.failures, emulator.failures[0]


def _charge(client: stripe.StripeClient, amount: int) -> None:
    client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True})


def _at(emu: StripeEmulator, day: int, hour: int = 1) -> None:
    emu.advance(seconds=START + (day - 1) * DAY + hour * HOUR - emu.now)


def _payouts(emu: StripeEmulator) -> list[stripe.Payout]:
    client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
    for amount in (100_000, 250_000, 40_000):
        _charge(client, amount)
    _at(emu, 5)
    _charge(client, 12_000)
    _at(emu, 6)
    _charge(client, 7_500)
    _at(emu, 15)
    found = sorted(client.v1.payouts.list(params={"limit": 100}).data, key=lambda p: p.created)
    assert [(p.amount, p.status) for p in found] == [
        (PAYOUT_1, "paid"), (PAYOUT_2, "paid"), (PAYOUT_3, "paid")]
    for p in found[:2]:
        carried = client.v1.balance_transactions.list(params={"payout": p.id, "limit": 100})
        assert sum(t.net for t in carried.data if t.type != "payout") == p.amount
    return found


def _statement(trace: str) -> bytes:
    rows = [("B-0105-1", "2026-01-05", "3786.00", "CRDT", "STRIPE PAYOUT"),
            ("B-0109-1", "2026-01-09", "116.22", "CRDT", f"STRIPE {trace}"),
            ("B-0114-1", "2026-01-14", "25.00", "DBIT", "MONTHLY SERVICE FEE")]
    entries = "".join(
        f"<Ntry><Amt Ccy=\"USD\">{amt}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for ref, day, amt, ind, text in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:'
            'xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><Othr><Id>4000123456'
            f'</Id></Othr></Id></Acct>{entries}</Stmt></BkToCstmrStmt></Document>').encode()


def test_statement_matches_stripe_payouts_to_the_cent(
        emu: StripeEmulator, sessions: sessionmaker[Session]) -> None:
    one, two, three = _payouts(emu)
    source = StripePayouts(api_key=emu.api_key, api_base=emu.url)
    result = import_statement(sessions, parse_statement(_statement(two.trace_id.value)), source)
    assert {(m.payout_id, m.line_key, m.how) for m in result.matched} == {
        (one.id, "4000123456:B-0105-1", BY_AMOUNT), (two.id, "4000123456:B-0109-1", BY_REFERENCE)}
    assert [(p.id, p.amount_minor) for p in result.missing_payouts] == [(three.id, PAYOUT_3)]
    assert [line.amount_minor for line in result.unmatched_lines] == [-2_500]
    with sessions() as session:
        rows = list(session.scalars(select(BankLineRow)))
    assert sum(r.amount_minor for r in rows if r.payout_id) == MATCHED == one.amount + two.amount

    again = import_statement(sessions, parse_statement(_statement(two.trace_id.value)), source)
    assert (again.new_lines, again.matched) == (0, [])


def test_closebot_bank_import_from_the_command_line(emu: StripeEmulator, tmp_path: Path) -> None:
    one, two, three = _payouts(emu)
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'bank.db'}",
                    STRIPE_API_KEY=emu.api_key, STRIPE_API_BASE=emu.url)
    assert closebot("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    (tmp_path / "broken.xml").write_bytes(_statement("x").replace(b">116.22<", b">11x.22<"))
    broken = closebot("bank", "import", "broken.xml", env=env, cwd=tmp_path)
    assert broken.returncode == 1 and broken.stdout == ""
    assert broken.stderr.strip() == (
        "closebot: broken.xml: camt.053 entry 2: the amount “11x.22” in “USD” is not a valid "
        "amount; nothing was imported")

    (tmp_path / "jan.xml").write_bytes(_statement(two.trace_id.value))
    done = closebot("bank", "import", "jan.xml", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert (outcome["format"], outcome["lines"], outcome["new_lines"]) == ("camt.053", 3, 3)
    assert sorted(m["payout"] for m in outcome["matched"]) == sorted([one.id, two.id])
    assert [p["payout"] for p in outcome["missing_payouts"]] == [three.id]

    again = closebot("bank", "import", "jan.xml", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:2] == ["Read a camt.053 statement: 3 lines, 0 new.",
                                             "Matched 0 payout(s) to bank lines."]
