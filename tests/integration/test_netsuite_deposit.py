"""A Stripe payout is one NetSuite `deposit` whose lines are what the payout settled, as the Stripe
Connector for NetSuite deposits it: each charge's gross, each fee, refund and dispute withdrawal
as a negative line, summing to the payout's net, the bank line.

Three customers pay by card the same day (Stripe's fee 2.9% + 0.30): Acme 1,000.00 (fee 29.30),
Beta 2,000.00 (fee 58.30), Gamma 900.00 (fee 26.40). Beta is refunded 500.00 (Stripe keeps the
fee); Gamma disputes at once (900.00 and a 15.00 dispute fee withdrawn). One payout settles it
all (hand-computed):

    gross 3,900.00 - fees 114.00 - refund 500.00 - dispute 900.00 - dispute fee 15.00 = 2,371.00

                                         Dr          Cr
    payments (x3)     Clearing        3,900.00
                      AR                          3,900.00
    card fees (x3)    Card fees         114.00
                      Clearing                      114.00
    refund            Sales (memo)      500.00  / AR 500.00; then AR 500.00 / Clearing 500.00
    dispute           Disputed funds    900.00
                      Dispute fees       15.00
                      Clearing                      915.00
    deposit           Cash            2,371.00
                      Clearing                    2,371.00  (its 9 lines, net)

The fee, refund and dispute records relieve Clearing when Stripe moves the money; the deposit's
lines itemize the payout on Clearing, so nothing is expensed twice. After: Clearing 0, Cash
2,371.00 = Stripe's payout, card fees 114.00, dispute fees 15.00, disputed funds 900.00.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from tests.integration.books import (  # noqa: F401 - a fixture
    advance,
    books_rt,
    dollars,
    ns_records,
    stripe_client,
)
from tests.integration.cash import billed, cash, cash_books, entries, findings, pay, payouts, refund

D = 100


@pytest.fixture
def books_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        yield stack


def test_payout_is_one_deposit_itemized_to_the_cent(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    pay(stack, billed(stack, rt, sessions, "Acme", 1000))
    beta = pay(stack, billed(stack, rt, sessions, "Beta", 2000))
    pay(stack, billed(stack, rt, sessions, "Gamma", 900), "pm_card_createDispute")
    refund(stack, beta, 500 * D)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(2371 * D, "paid")]
    assert cash(rt).problems == []

    (deposit,) = ns_records(stack, "deposit")
    lines = [(dollars(line["amount"]), line["account"]["id"])
             for line in deposit["other"]["items"]]
    assert Counter(amount for amount, _ in lines) == Counter([
        1000 * D, -2930, 2000 * D, -5830, 900 * D, -2640, -500 * D, -900 * D, -15 * D])
    assert sum(amount for amount, _ in lines) == dollars(deposit["total"]) == 2371 * D
    # Each line is one of Stripe's balance transactions of the payout (its amount, its fee).
    client = stripe_client(stack)
    (payout,) = client.v1.payouts.list().data
    txns = [t for t in client.v1.balance_transactions.list(
        {"payout": payout["id"], "limit": 100}).data if t["type"] != "payout"]
    assert Counter(amount for amount, _ in lines) == Counter(
        [t["amount"] for t in txns] + [-t["fee"] for t in txns if t["fee"]])

    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Card fees"], books["Dispute fees"],
            books["Disputed funds"], books["AR"]) == (2371 * D, 0, 114 * D, 15 * D, 900 * D, 0)
    assert findings(rt) == []
    made = entries(rt)
    assert cash(rt).problems == []  # the replay
    assert entries(rt) == made and len(ns_records(stack, "deposit")) == 1
