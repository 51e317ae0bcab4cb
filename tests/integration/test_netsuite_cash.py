"""NetSuite's cash records written through the connector are each made once: a refund stopped
between its credit memo and its customer refund finishes on the retry, and a retry after a lost
answer (the same posting again) finds the records instead of making new ones.

Acme's 1,000.00 invoice is paid by card (the payment waits in Undeposited Funds, Clearing), then
refunded 200.00 and the 800.00 left paid out (hand-computed):
                                    Dr          Cr
    payment       Clearing       1,000.00
                  AR                         1,000.00
    credit memo   Sales            200.00
                  AR                           200.00
    refund        AR               200.00
                  Clearing                     200.00
    payout        Cash             800.00
                  Clearing                     800.00
After: Clearing 0, Cash 800.00, AR 0, customer credit 0; one memo, one refund, one deposit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sandbox.stack import SandboxStack
from sync.connectors.netsuite_cash import NetSuiteCash
from sync.engine.runtime import Runtime
from sync.errors import PermanentError
from sync.ports_cash import (
    CLEARING,
    DepositLine,
)
from tests.integration.books import advance, books_rt, ns_records  # noqa: F401 - a fixture
from tests.integration.erp_cash import (
    D,
    assert_cash_accounts_checked,
    assert_cash_settled,
    assert_refunded_and_paid_out,
    paid,
    payout_posting,
    proxy_to,
    refund_posting,
    refunded_the_same_day,
    run_again_twice,
    run_losing_answers,
)


@pytest.fixture
def books_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        yield stack


def counts(stack: SandboxStack) -> tuple[int, int, int]:
    return tuple(len(ns_records(stack, kind))  # type: ignore[return-value]
                 for kind in ("creditMemo", "customerRefund", "deposit"))


def test_refund_and_payout_are_made_once_across_a_failure_and_retries(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    acme = paid(stack, rt, sessions)
    assert rt.cash is not None and isinstance(rt.cash.erp, NetSuiteCash)
    books = rt.cash.erp
    refund = refund_posting(acme)
    books.numbers[CLEARING] = "1299"  # the account is missing: stopped after the credit memo
    with pytest.raises(PermanentError, match="no account number 1299 for clearing"):
        books.post_cash(refund)
    assert counts(stack) == (1, 0, 0)
    books.numbers[CLEARING] = "1200"  # a person adds it; the run is retried
    first = books.post_cash(refund)
    assert books.post_cash(refund) == first  # the retry after a lost answer
    assert counts(stack) == (1, 1, 0)
    # Lines that don't add up to the amount (799.99 of 800.00): the deposit is the net alone.
    payout = payout_posting(
        deposit_lines=(DepositLine(1000 * D, "charge"), DepositLine(-20001, "refund")))
    books.post_many([payout])
    books.post_many([payout])
    assert counts(stack) == (1, 1, 1)
    (deposit,) = ns_records(stack, "deposit")
    assert [line["amount"] for line in deposit["other"]["items"]] == [800]
    assert_refunded_and_paid_out(rt, books)


def test_cash_accounts_are_a_setting(
    books_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
) -> None:
    """NETSUITE_CASH_ACCOUNTS names the account of a role; one NetSuite lacks is refused with
    the account's number, and a role closebot doesn't know stops the start."""
    assert_cash_accounts_checked(books_stack, db_url, sessions, "netsuite_cash_accounts",
                                 "no account number 6999 for processing fees",
                                 lambda: ns_records(books_stack, "journalEntry"))


def test_answers_lost_on_the_way_back_create_nothing_twice(
    books_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
) -> None:
    """The cash run through a proxy that loses NetSuite's answers to every customer refund and
    deposit (done in NetSuite, the connection reset on the way back), then runs again. Acme's
    1,000.00 is refunded 200.00 the same day and paid out: 1,000.00 - 29.30 - 200.00 = 770.70.
    After: one memo, one refund, one deposit; Cash 770.70, Clearing 0, fees 29.30, AR 0."""
    stack = books_stack
    assert stack.netsuite is not None
    with proxy_to(stack.netsuite) as proxy:
        rt = refunded_the_same_day(stack, db_url, sessions, netsuite_base_url=proxy.url)
        run_losing_answers(rt, proxy, "/services/rest/record/v1/customerRefund",
                           "/services/rest/record/v1/deposit")
        assert counts(stack)[1] == 1
        run_again_twice(rt)
        assert counts(stack) == (1, 1, 1)
        assert_cash_settled(rt)
