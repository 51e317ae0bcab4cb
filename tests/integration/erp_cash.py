"""What the NetSuite and Sage Intacct cash examples share: Acme's 1,000.00 invoice paid by card,
refunded 200.00 and the rest paid out, posted through each ERP's cash connector, and the same
run through a proxy that loses the ERP's answers (tests/integration/test_netsuite_cash.py and
test_intacct_cash.py have the entries by hand)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.faults import FaultPlan, FaultProxy
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.errors import PermanentError, TransientError
from sync.ports_cash import CASH, CLEARING, CUSTOMER_CREDIT, PROCESSING_FEES, CashPosting, Leg
from tests.integration.books import advance, clocked
from tests.integration.cash import billed, cash, cash_books, pay, payouts, refund
from tests.integration.conftest import make_settings

D = 100


def paid(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]) -> str:
    """Acme's 1,000.00 invoice billed and paid by card, the payment synced: its invoice."""
    acme = billed(stack, rt, sessions, "Acme", 1000)
    pay(stack, acme)
    sync_once(rt)
    return acme


def refund_posting(invoice: str) -> CashPosting:
    """Stripe's 200.00 refund of `invoice`, paid: Dr customer credit / Cr Clearing."""
    return CashPosting(
        external_id="stripe:txn_refund", memo="Stripe refund re_1", posted_on=date(2026, 1, 20),
        currency="USD", source_ref="re_1",
        legs=(Leg(CUSTOMER_CREDIT, debit=200 * D), Leg(CLEARING, credit=200 * D)),
        credit_invoice=(200 * D, invoice))


def payout_posting(**extra: Any) -> CashPosting:
    """The 800.00 left paid out: Dr Cash / Cr Clearing."""
    return CashPosting(
        external_id="stripe:po_1", memo="Stripe payout po_1", posted_on=date(2026, 1, 23),
        currency="USD", source_ref="po_1",
        legs=(Leg(CASH, debit=800 * D), Leg(CLEARING, credit=800 * D)), **extra)


def assert_refunded_and_paid_out(rt: Runtime, books: Any) -> None:
    """Both postings found by external ID; Clearing 0, Cash 800.00, AR 0, customer credit 0."""
    assert books.posted(["stripe:txn_refund", "stripe:po_1", "stripe:nothing"]) == {
        "stripe:txn_refund": -200 * D, "stripe:po_1": -800 * D}
    balances = cash_books(rt)
    assert (balances["Clearing"], balances["Cash"], balances["AR"],
            balances["Customer credit"]) == (0, 800 * D, 0, 0)
    assert books.clearing_balance("USD") == 0


def refunded_the_same_day(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
                          **settings: Any) -> Runtime:
    """Acme's 1,000.00 paid and refunded 200.00 the same day, synced, and paid out four days
    on: 1,000.00 - 29.30 - 200.00 = 770.70. The runtime has `settings` (the ERP's URL through
    a proxy)."""
    rt = clocked(stack, db_url, sessions, **settings)
    charge = pay(stack, billed(stack, rt, sessions, "Acme", 1000))
    refund(stack, charge, 200 * D)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(77070, "paid")]
    return rt


def run_losing_answers(rt: Runtime, proxy: FaultProxy, *paths: str) -> None:
    """A cash run whose every answer on `paths` is lost after the ERP made the record."""
    proxy.set_plan(FaultPlan(rate=1.0, kinds=("drop_response",), only_paths=paths))
    with contextlib.suppress(TransientError):
        cash(rt)
    assert proxy.injected["drop_response"] >= 1
    proxy.set_plan(FaultPlan())


def run_again_twice(rt: Runtime) -> None:
    """The cash run retried, clean, and once more (it finds everything)."""
    assert cash(rt).problems == []
    cash(rt)


def assert_cash_settled(rt: Runtime) -> None:
    """Cash 770.70, Clearing 0, card fees 29.30, AR 0, customer credit 0."""
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["Card fees"], books["AR"],
            books["Customer credit"]) == (77070, 0, 2930, 0, 0)


def proxy_to(emulator: Any) -> FaultProxy:
    """A fault proxy in front of the ERP's emulator, answering with its certificate."""
    return FaultProxy(emulator.url, FaultPlan(), upstream_ca=str(emulator.ca_bundle),
                      tls=emulator._ca, keep_host=True)


def assert_cash_accounts_checked(stack: SandboxStack, db_url: str,
                                 sessions: sessionmaker[Session], setting: str, refused: str,
                                 written: Callable[[], list[Any]]) -> None:
    """`setting` ({role: account}) naming a processing-fees account the ERP lacks: a fee is
    refused with `refused` and nothing is `written`; a role closebot doesn't know stops the
    start."""
    rt = build_runtime(make_settings(stack, db_url, **{setting: {"processing_fees": "6999"}}),
                       sessions)
    assert rt.cash is not None
    fee = CashPosting(
        external_id="stripe:txn_fee", memo="Stripe fee", posted_on=date(2026, 1, 20),
        currency="USD", source_ref="ch_1",
        legs=(Leg(PROCESSING_FEES, debit=30), Leg(CLEARING, credit=30)))
    with pytest.raises(PermanentError, match=refused):
        rt.cash.erp.post_cash(fee)
    assert written() == []
    with pytest.raises(ValueError, match="fees is not a role"):
        build_runtime(make_settings(stack, db_url, **{setting: {"fees": "1"}}), sessions)
