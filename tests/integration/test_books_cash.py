"""Cash worked examples end to end: deals billed in Stripe, paid by card, refunded or disputed,
paid out on Stripe's daily schedule, then booked by the cash run on the embedded ledger and tied
out to the cent against Stripe's payouts and balance.

Card fees are 2.9% + $0.30 (the emulator's, Stripe's US list price): $1,000.00 → $29.30;
$2,500.00 → $72.80; $400.00 → $11.90. Card funds are available two days after the charge and
paid out daily; the payout arrives the next day.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from tests.integration.books import (
    advance,
    books_rt,  # noqa: F401 - a fixture
    journal_entries,
)
from tests.integration.cash import (
    billed,
    books_stack,  # noqa: F401 - a fixture
    cash,
    cash_books,
    findings,
    pay,
    payouts,
    stripe_balance,
)

D = 100  # $1.00 in cents


def test_payout_with_fees_across_three_customers(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Three invoices paid by card the same day, paid out together.

                                        Dr          Cr
        payments (x3)   Clearing     3,900.00
                        AR                       3,900.00
        card fees       Card fees      114.00
                        Clearing                   114.00
        payout          Cash         3,786.00
                        Clearing                 3,786.00

    After: Clearing 0, AR 0, Cash 3,786.00 = Stripe's payout, fees 114.00; Stripe's balance 0.
    """
    stack, rt = books_stack, books_rt
    for account, dollars in (("Acme", 1000), ("Globex", 2500), ("Initech", 400)):
        pay(stack, billed(stack, rt, sessions, account, dollars))
    sync_once(rt)  # the payments reach the ledger (Dr Clearing / Cr AR)
    advance(stack, days=4)
    assert payouts(stack) == [(3786 * D, "paid")]
    run = cash(rt)
    assert (run.payouts, run.settled, run.transactions, run.problems) == (1, 1, 3, [])
    books = cash_books(sessions)
    assert (books["Clearing"], books["AR"], books["Cash"], books["Card fees"]) == (
        0, 0, 3786 * D, 114 * D)
    assert stripe_balance(rt) == 0 and findings(rt) == []
    entries = journal_entries(sessions)
    cash(rt)  # a replay (a second scheduler tick, a restart) books nothing again
    assert journal_entries(sessions) == entries
