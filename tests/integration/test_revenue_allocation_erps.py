"""Worked examples: relative-SSP allocation and a late credit, closed on every ERP to the cent.

Each deal starts on S, the 1st of a month (P1; P2 is the next), billed annually up front; the
SSPs are read from the Salesforce products (`SSP__c`): Implementation Services 20,000 a unit,
Platform Subscription 10,000 a month (100,000 over the 10 months), Training 3,000 a unit.
The ledger allocates the transaction price by relative SSP and plans the schedules; the
invoices bill contract prices. Worked by hand (cents where a share is not whole dollars):

    half off    implementation sold 10,000 (50% off 20,000) + platform 100,000: price 110,000
                allocated 110,000 x 20/120 = 18,333.33 and x 100/120 = 91,666.67; the
                platform's months: 9,166,667 cents / 10, the 7 cents left on the first seven
                close P1   implementation 18,333.33, platform 9,166.67   (27,500.00)
                close P2   platform 9,166.67
                roll-fwd   P1 0 + 110,000 - 0 - 27,500.00 = 82,500.00
                           P2 82,500.00 + 0 - 0 - 9,166.67 = 73,333.33
    waived      implementation at 100% off (0) + platform 100,000: price 100,000
                allocated 100,000 x 20/120 = 16,666.67 and x 100/120 = 83,333.33; months
                8,333,333 cents / 10: 833,334 for the first three
                close P1   implementation 16,666.67, platform 8,333.34   (25,000.01)
                close P2   platform 8,333.34
                roll-fwd   P1 0 + 100,000 - 0 - 25,000.01 = 74,999.99
                           P2 74,999.99 - 8,333.34 = 66,666.65
    free item   implementation 20,000 + platform 100,000 + Training free (3,000 list, 100%
                off): price 120,000 over standalone 123,000: 19,512.19 / 97,560.98 / 2,926.83
                (tests/unit/test_revenue_allocation.py); months 9,756,098 / 10: 975,610 for
                the first eight
                close P1   implementation 19,512.19, training 2,926.83, platform 9,756.10
                           (32,195.12)
                close P2   platform 9,756.10
                roll-fwd   P1 0 + 120,000 - 0 - 32,195.12 = 87,804.88
                           P2 87,804.88 - 9,756.10 = 78,048.78

On the ledger the closes post its own entries; on NetSuite and Sage Intacct each close posts the
journal entry `closebot-rev-<period>-USD`, Dr Deferred Revenue / Cr 4100 (implementation,
training) and 4000 (platform), a line per obligation: the same amounts. The ERP's Deferred
Revenue holds the invoice's contract prices less those entries, so the roll-forward ties there
too (the allocation moves revenue between obligations, never the total).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerJournalEntry
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.errors import TransientError
from sync.ledger import Ledger
from sync.ledger.close import RollForward
from sync.ledger.periods import parse_period
from sync.ledger.subledger_close import period_revenue
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    deal_status,
    dollars,
    ia_records,
    mirrored,
    ns_records,
    seed,
    seed_acme,
)
from tests.integration.conftest import make_settings
from tests.integration.erp_books import IA_CREDIT
from tests.integration.test_books_credit import _approve_credit
from tests.integration.test_revenue_close_erps import JOURNAL
from tests.integration.test_subledger_changes import _close_months, _first_of_next_month

IMPL, PLATFORM, TRAINING = "Implementation Services", "Platform Subscription", "Training"
SSP = {IMPL: 20_000, PLATFORM: 10_000, TRAINING: 3_000}  # SSP__c, USD
ACCOUNT = {IMPL: "4100", TRAINING: "4100", PLATFORM: "4000"}


def _lines(impl_off: int, training: bool) -> list[LineSpec]:
    lines = [LineSpec(IMPL, 1, Decimal(20_000), "One-Time", Decimal(impl_off)),
             LineSpec(PLATFORM, 1, Decimal(100_000), "Recurring")]
    if training:
        lines.append(LineSpec(TRAINING, 1, Decimal(3_000), "One-Time", Decimal(100)))
    return lines


def seed_bundle(stack: SandboxStack, start: date, lines: list[LineSpec]) -> str:
    """A 10-month deal of `lines` from `start`, billed annually, with each product's SSP set
    on its Salesforce Product2."""
    opp = seed(stack, DealSpec("Acme Corp - Platform", "Acme Corp", "dana@acme-sales.example",
                               "USD", "Annual", "Net 30", 10, lines, start))
    for product in stack.salesforce.records("Product2"):
        stack.salesforce.update("Product2", product["Id"], {"SSP__c": SSP[product["Name"]]})
    return opp


def released(stack: SandboxStack, sessions: sessionmaker[Session], period: str
             ) -> dict[tuple[str, str], int]:
    """(revenue account, product) -> cents the close of `period` posted: the ledger's revenue
    entries in the month, or the lines of the ERP's `closebot-rev-<period>-USD` (each line's
    memo starts with its product)."""
    out: dict[tuple[str, str], int] = {}
    key = f"closebot-rev-{period}-USD"
    if stack.netsuite is not None:
        [entry] = ns_records(stack, "journalEntry", key)
        lines = [(str(line["account"]["refName"]).split()[0], str(line["memo"]),
                  dollars(line.get("credit") or 0) - dollars(line.get("debit") or 0))
                 for line in entry["line"]["items"]]
    elif stack.intacct is not None:
        [entry] = ia_records(stack, JOURNAL, key)
        lines = [(str(line["glAccount"]["id"]), str(line["memo"]),
                  (1 if line["txnType"] == "credit" else -1)
                  * dollars(Decimal(str(line["txnAmount"])))) for line in entry["lines"]]
    else:
        start, end = parse_period(period)
        found = Ledger(sessions).read(lambda s: period_revenue(s, start, end))
        lines = [(ln.account, ln.memo, ln.amount_minor) for ln in found.get("USD", [])]
    for account, memo, amount in lines:
        if account == "2100":
            continue  # the Deferred Revenue debit: the total, checked by the roll-forward
        name = (account, memo.split(":")[0])
        out[name] = out.get(name, 0) + amount
    return out


def _by_product(amounts: dict[str, int]) -> dict[tuple[str, str], int]:
    return {(ACCOUNT[product], product): cents for product, cents in amounts.items()}


@pytest.mark.parametrize(("impl_off", "training", "p1", "p2", "billed"), [
    (50, False, {IMPL: 1_833_333, PLATFORM: 916_667}, 916_667, 11_000_000),
    (100, False, {IMPL: 1_666_667, PLATFORM: 833_334}, 833_334, 10_000_000),
    (0, True, {IMPL: 1_951_219, TRAINING: 292_683, PLATFORM: 975_610}, 975_610, 12_000_000),
], ids=["half-off", "waived", "free-item"])
def test_allocated_bundle_closes_the_same_on_every_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    db_url: str, impl_off: int, training: bool, p1: dict[str, int], p2: int, billed: int,
) -> None:
    stack = books_stack
    # The 50% and 100% discounts are within policy here: allocation, not approval, is tested.
    rt = build_runtime(make_settings(stack, db_url, discount_approval_pct=100), sessions)
    rt.now = books_rt.now
    start = _first_of_next_month(stack)
    opp = seed_bundle(stack, start, _lines(impl_off, training))
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    [invoice] = stack.stripe.objects("invoice")
    assert invoice["total"] == billed  # contract prices are billed
    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)

    first, second = (f"{add_months(start, n):%Y-%m}" for n in (0, 1))
    assert released(stack, sessions, first) == _by_product(p1)
    assert released(stack, sessions, second) == _by_product({PLATFORM: p2})
    p1_total = sum(p1.values())
    p1_closing = billed - p1_total
    assert rolled == [(RollForward("USD", 0, billed, 0, p1_total, p1_closing, p1_closing),),
                      (RollForward("USD", p1_closing, 0, 0, p2, p1_closing - p2,
                                   p1_closing - p2),)]


class _Down:
    """The ERP refusing credit memos (a timeout) until `up` is set, as an outage would."""

    def __init__(self, rt: Runtime) -> None:
        self.up, self.post = False, rt.erp.post_credit_memo

    def __call__(self, credit: Any, *, invoice_id: str) -> str:
        if not self.up:
            raise TransientError("the ERP timed out", system="erp")
        return self.post(credit, invoice_id=invoice_id)


def test_a_credit_dated_in_a_closed_month_posts_in_the_next(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed deal ($20,000 implementation on S + $100,000 platform, 10 x 10,000), one
    $120,000 invoice on S. A $5,000 credit is approved on day 10 of P1: Stripe issues the
    credit note that day, but the ERP is down, so the credit waits. P1 is closed; then the
    ERP is back and the credit is booked, dated day 10, in the closed P1.

        close P1    implementation 20,000, platform 10,000 (30,000); roll-forward
                    0 + 120,000 - 0 - 30,000 = 90,000
        the credit  all from deferred revenue (the platform had 90,000 left to earn); booked on
                    P2's first day, its memo naming day 10 and the closed P1, in the subledger
                    and in the ERP (NetSuite's credit memo, Sage Intacct's AR adjustment are
                    dated P2's first day too); P1's roll-forward unchanged
        months 2-10 the platform's 9 rows left, 90,000 - 5,000 = 85,000: 8,500,000 cents / 9 =
                    944,444 and 4 cents left, on the first four: P2's row is 9,444.45
        close P2    platform 9,444.45; roll-forward 90,000 + 0 - 5,000 - 9,444.45 = 75,555.55,
                    the ERP's Deferred Revenue the same
    Before the ERP's copy was dated as the subledger books it, NetSuite and Sage Intacct held
    the credit on day 10: their P1 then rolled forward to 85,000, not the 90,000 its close
    reported.
    """
    stack, rt = books_stack, books_rt
    start = _first_of_next_month(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (invoice,) = mirrored(sessions, opp)
    erp = _Down(rt)
    monkeypatch.setattr(rt.erp, "post_credit_memo", erp)
    advance(stack, days=9)
    _approve_credit(rt, opp, invoice.billing_id, 5 * K)
    [note] = stack.stripe.objects("credit_note")
    assert datetime.fromtimestamp(note["created"], UTC).date() == start + timedelta(days=9)

    advance_months(stack, start, 1)
    p1, p2 = (f"{add_months(start, n):%Y-%m}" for n in (0, 1))
    [p1_roll] = _close_months(stack, rt, sessions, start, 1)
    assert p1_roll == (RollForward("USD", 0, 120 * K, 0, 30 * K, 90 * K, 90 * K),)
    assert released(stack, sessions, p1) == {("4100", IMPL): 20 * K, ("4000", PLATFORM): 10 * K}

    erp.up = True
    advance(stack, seconds=3600)  # past the step's backoff
    sync_once(rt)
    moved = f"(dated {start + timedelta(days=9)}, in closed period {p1})"
    for booked_on, memo in late_credit(stack, sessions):
        assert (booked_on, memo.endswith(moved)) == (add_months(start, 1), True), memo
    assert _close_months(stack, rt, sessions, start, 1) == [p1_roll]  # P1 as it was closed

    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)
    assert released(stack, sessions, p2) == {("4000", PLATFORM): 944_445}
    assert rolled[1] == (RollForward("USD", 90 * K, 0, 5 * K, 944_445, 7_555_555, 7_555_555),)


def late_credit(stack: SandboxStack, sessions: sessionmaker[Session]) -> list[tuple[date, str]]:
    """(the day it is dated, its memo) of the one credit: in the general ledger (the subledger
    on NetSuite and Sage Intacct), and as NetSuite's credit memo or Sage Intacct's AR
    adjustment."""
    with transaction(sessions) as s:
        [entry] = s.scalars(select(LedgerJournalEntry).where(
            LedgerJournalEntry.source_type == "credit_memo"))
        found = [(entry.posted_on, entry.memo)]
    if stack.netsuite is not None:
        [memo] = ns_records(stack, "creditMemo")
        found.append((date.fromisoformat(memo["tranDate"]), memo["memo"]))
    if stack.intacct is not None:
        [adjustment] = ia_records(stack, IA_CREDIT)
        found.append((date.fromisoformat(adjustment["adjustmentDate"]),
                      adjustment["description"]))
    return found
