"""Each legal entity's Stripe cash booked into its own NetSuite OneWorld subsidiary: Acme Inc
(subsidiary 1, USD) and Acme Ltd (subsidiary 2, GBP), each a Stripe Connect account of the
platform, one invoice paid by card and one payout in each, booked by the cash run.

Card fees are the Stripe emulator's 2.9% + 0.30 in the charge's currency.

    Acme Inc, USD: Initrode pays its 1,000.00 invoice; fee 29.00 + 0.30 = 29.30;
                   payout 1,000.00 - 29.30 = 970.70.
    Acme Ltd, GBP: Hooli UK pays its 500.00 invoice; fee 14.50 + 0.30 = 14.80;
                   payout 500.00 - 14.80 = 485.20.

                              Subsidiary 1 (USD)      Subsidiary 2 (GBP)
                              Dr         Cr           Dr         Cr
    invoice    AR          1,000.00                 500.00
               Revenue                1,000.00                  500.00
    payment    Clearing    1,000.00                 500.00
               AR                     1,000.00                  500.00
    card fee   Card fees      29.30                  14.80        (journal entry)
               Clearing                  29.30                   14.80
    payout     Cash          970.70                 485.20        (deposit)
               Clearing                 970.70                  485.20

After, per subsidiary: AR 0, Clearing 0, Cash = its payout, Card fees = its fee; every
deposit and journal entry names its entity's subsidiary; each entity's cash audit is clean;
a replay posts nothing.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job
from sandbox.stack import SandboxStack
from sync.connectors.netsuite import NetSuiteErp
from sync.engine.runtime import Runtime
from sync.errors import SyncError
from sync.ops.audit import run_audit
from tests.integration.entity_cash import (
    assert_each_entity_settled,
    both_paid_out,
    cash_figures,
    entities,
    entity_runtime,
)

ENTITIES = entities(netsuite_subsidiary=("1", "2"))
CASH, AR, CLEARING, CARD_FEES = "1000", "1100", "1200", "6100"
CASH_RECORDS = ("deposit", "customerRefund", "journalEntry")


@pytest.fixture
def one_world() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        assert stack.netsuite is not None
        stack.netsuite.store.one_world = True
        yield stack


@pytest.fixture
def rt(one_world: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return entity_runtime(one_world, db_url, sessions, netsuite_subsidiary="1",
                          entities=ENTITIES)


def _books(erp: NetSuiteErp) -> dict[int, dict[str, Decimal]]:
    """Each subsidiary's balance per account number (debit less credit), read by SuiteQL."""
    numbers = {row["id"]: row["acctnumber"]
               for row in erp.suiteql("SELECT id, acctnumber FROM account")}
    owner = {row["transaction"]: row["subsidiary"] for row in erp.suiteql(
        "SELECT transaction, subsidiary FROM transactionline WHERE mainline = 'T'")}
    books: dict[int, dict[str, Decimal]] = {}
    for line in erp.suiteql("SELECT transaction, account, amount FROM transactionaccountingline"):
        book = books.setdefault(int(owner[line["transaction"]]), {})
        number = numbers[line["account"]]
        book[number] = book.get(number, Decimal(0)) + Decimal(str(line["amount"]))
    return {sub: {n: a for n, a in book.items() if a} for sub, book in books.items()}


def test_each_entitys_cash_books_to_its_own_subsidiary(one_world: SandboxStack,
                                                        rt: Runtime) -> None:
    stack = one_world
    ns = stack.netsuite
    assert ns is not None and isinstance(rt.erp, NetSuiteErp)
    both_paid_out(stack, rt)

    # Before the cash run each subsidiary's Clearing holds its own payment only: Acme Ltd's
    # subsidiary allows USD too, but none of Acme Inc's USD 1,000.00 is in it.
    clearing = {name: {c: rt.entity_cash[name].erp.clearing_balance(c) for c in ("USD", "GBP")}
                for name in ("Acme Inc", "Acme Ltd")}
    assert clearing == {"Acme Inc": {"USD": 100_000, "GBP": 0},
                        "Acme Ltd": {"USD": 0, "GBP": 50_000}}
    report = run_audit(rt, require_alerts=False)
    assert sorted((v.kind, v.reason.split(":")[0], v.currency) for v in report.variances) == [
        ("payout_not_settled", "Acme Inc", "USD"), ("payout_not_settled", "Acme Ltd", "GBP")]
    assert cash_figures(report.entities) == {
        "Acme Inc": ("USD", 0, 100_000, -100_000), "Acme Ltd": ("GBP", 0, 50_000, -50_000)}

    counts = run_job(rt, "cash")
    assert counts["cash_exceptions"] == 0
    assert (counts["payouts"], counts["settled"]) == (2, 2)
    books = _books(rt.erp)
    for sub, cash, fee in ((1, "970.70", "29.30"), (2, "485.20", "14.80")):
        assert books[sub].get(AR) is None and books[sub].get(CLEARING) is None, books[sub]
        assert books[sub][CASH] == Decimal(cash), books[sub]
        assert books[sub][CARD_FEES] == Decimal(fee), books[sub]
    # Every cash record names its entity's subsidiary, by currency here.
    placed = sorted((r["subsidiary"]["id"], r["currency"]["refName"] if isinstance(
        r["currency"], dict) else r["currency"], kind)
        for kind in CASH_RECORDS for r in ns.records(kind))
    assert [(sub, kind) for sub, _c, kind in placed] == [
        ("1", "deposit"), ("1", "journalEntry"), ("2", "deposit"), ("2", "journalEntry")]

    assert_each_entity_settled(rt)

    before = {kind: len(ns.records(kind)) for kind in CASH_RECORDS}
    run_job(rt, "cash")  # a replay posts nothing again
    assert {kind: len(ns.records(kind)) for kind in CASH_RECORDS} == before
    assert _books(rt.erp) == books


def test_a_cash_record_without_a_subsidiary_is_refused_in_one_world(rt: Runtime,
                                                                   one_world: SandboxStack
                                                                   ) -> None:
    """NetSuite's deposit and journal entry insist on a subsidiary in OneWorld: without one
    the journal is refused with NetSuite's reason and nothing posts."""
    assert isinstance(rt.erp, NetSuiteErp) and one_world.netsuite is not None
    erp = copy.copy(rt.erp)
    erp.setup = dataclasses.replace(erp.setup, subsidiary=None)
    accounts = {row["acctnumber"]: str(row["id"])
                for row in erp.suiteql("SELECT id, acctnumber FROM account")}
    one = Decimal("1.00")
    lines = [{"account": {"id": accounts[CARD_FEES]}, "debit": one},
             {"account": {"id": accounts[CLEARING]}, "credit": one}]
    with pytest.raises(SyncError, match="Subsidiary"):
        erp._upsert("journalEntry", "je:no-subsidiary", {
            "currency": {"id": erp._currency_id("USD")}, "tranDate": "2026-11-30",
            "line": {"items": lines}})
    assert one_world.netsuite.records("journalEntry") == []
