"""Sage Intacct's cash records written through the connector are each made once: a retry after
a lost answer, or a crash between a refund's adjustment and its journal entry, finds what Sage
has by reference number instead of making it again.

Acme's 1,000.00 invoice is paid by card (the AR payment lands in Undeposited Funds, Clearing),
then refunded 200.00 and the 800.00 left paid out (hand-computed):
                                    Dr          Cr
    payment       Clearing       1,000.00
                  AR                         1,000.00
    adjustment    Deferred rev.    200.00
                  AR                           200.00   (open: Acme's credit)
    refund        AR               200.00
                  Clearing                     200.00
    payout        Cash             800.00
                  Clearing                     800.00
After: Clearing 0, Cash 800.00, AR 0, customer credit 0; one adjustment, two journal entries.
With the card fee (2.9% + 0.30 = 29.30) the real payout is 1,000.00 - 29.30 - 200.00 = 770.70.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from sync.connectors.intacct_cash import IntacctCash
from sync.engine.runtime import Runtime
from sync.errors import PermanentError
from sync.ports_cash import (
    CreditApplication,
    Overpayment,
)
from tests.integration.books import (  # noqa: F401 - a fixture
    advance,
    advance_past_renewal,
    books_rt,
    ia_records,
    mirrored,
    seed,
    stripe_client,
    today,
)
from tests.integration.cash import (
    billed,
    cash_books,
    entries,
    findings,
    pay,
    payouts,
    sandbox_post,
)
from tests.integration.cash import cash as run_cash
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

ADJUSTMENT, JOURNAL = "accounts-receivable/adjustment", "general-ledger/journal-entry"
ADVANCE, PAYMENT = "accounts-receivable/advance", "accounts-receivable/payment"
INVOICE = "accounts-receivable/invoice"


@pytest.fixture
def books_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="intacct", slack=False) as stack:
        yield stack


def counts(stack: SandboxStack) -> tuple[int, int]:
    return len(ia_records(stack, ADJUSTMENT)), len(ia_records(stack, JOURNAL))


def test_refund_and_payout_are_made_once_across_retries(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    acme = paid(stack, rt, sessions)
    assert rt.cash is not None and isinstance(rt.cash.erp, IntacctCash)
    books = rt.cash.erp
    refunded = refund_posting(acme)
    first = books.post_cash(refunded)
    assert books.post_cash(refunded) == first  # the retry after a lost answer
    assert counts(stack) == (1, 1)
    (adjustment,) = ia_records(stack, ADJUSTMENT, "refund:re_1")
    assert adjustment["totalTxnAmountDue"] == "-200.00"  # the invoice was paid: Acme's credit
    payout = payout_posting()
    books.post_many([payout])
    books.post_many([payout])
    assert counts(stack) == (1, 2)
    assert_refunded_and_paid_out(rt, books)
    (entry,) = ia_records(stack, JOURNAL, "stripe:po_1")
    assert [(ln["glAccount"]["id"], ln["txnType"], ln["txnAmount"]) for ln in entry["lines"]] == [
        ("1000", "debit", "800.00"), ("1010", "credit", "800.00")]


def test_cash_accounts_are_a_setting(
    books_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
) -> None:
    """INTACCT_CASH_ACCOUNTS names the GL account of a role; one Sage lacks is refused with its
    number before anything is written, and a role closebot doesn't know stops the start."""
    assert_cash_accounts_checked(books_stack, db_url, sessions, "intacct_cash_accounts",
                                 "no GL account 6999 for processing fees",
                                 lambda: ia_records(books_stack, JOURNAL))


def test_answers_lost_on_the_way_back_create_nothing_twice(
    books_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
) -> None:
    """The cash run through a proxy that loses Sage's answers to every journal entry (made in
    Sage, the connection reset on the way back), then runs again. Acme's 1,000.00 is refunded
    200.00 the same day and paid out: 1,000.00 - 29.30 - 200.00 = 770.70. After: one
    adjustment, three journal entries (fee, refund, payout); Cash 770.70, Clearing 0, fees
    29.30, AR 0, customer credit 0."""
    stack = books_stack
    assert stack.intacct is not None
    with proxy_to(stack.intacct) as proxy:
        rt = refunded_the_same_day(stack, db_url, sessions,
                                   intacct_base_url=proxy.url + "/ia/api/v1")
        run_losing_answers(rt, proxy, "/ia/api/v1/objects/general-ledger/journal-entry")
        assert counts(stack)[1] >= 1
        run_again_twice(rt)
        assert counts(stack) == (1, 3)
        assert_cash_settled(rt)


def test_an_overpayment_and_the_credit_used_are_each_made_once(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme's open 1,000.00 invoice; an overpayment of 200.00 recorded twice (a retry after a
    lost answer) is one AR advance: Dr Clearing 200.00 / Cr Customer Advances 200.00. Using
    300.00 of credit is refused (100.00 short) and writes nothing; using 200.00, twice, is one
    AR payment applying the advance (Dr Customer Advances / Cr AR 200.00): the invoice owes
    800.00, customer credit 0, Clearing 200.00."""
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    assert rt.cash is not None and isinstance(rt.cash.erp, IntacctCash)
    books, erp_invoice = rt.cash.erp, rt.cash.erp.erp._find(INVOICE, acme)
    assert erp_invoice is not None
    over = Overpayment(key="in_before:overpaid", invoice_id="in_before", amount_minor=200 * D,
                       currency="USD", paid_on=date(2026, 1, 5))
    first = books.record_overpayment(over, erp_invoice=erp_invoice)
    assert books.record_overpayment(over, erp_invoice=erp_invoice) == first
    assert len(ia_records(stack, ADVANCE)) == 1
    assert cash_books(rt)["Customer credit"] == -200 * D

    def used(cents: int) -> CreditApplication:
        return CreditApplication(key=f"{acme}:credit", invoice_id=acme, amount_minor=cents,
                                 currency="USD", applied_on=date(2026, 1, 6))
    with pytest.raises(PermanentError, match=r"USD 100\.00 short of it"):
        books.apply_credit(used(300 * D), erp_invoice=erp_invoice)
    assert ia_records(stack, PAYMENT) == []
    applied = books.apply_credit(used(200 * D), erp_invoice=erp_invoice)
    assert books.apply_credit(used(200 * D), erp_invoice=erp_invoice) == applied
    assert len(ia_records(stack, PAYMENT)) == 1
    (invoice,) = ia_records(stack, INVOICE, acme)
    assert invoice["totalTxnAmountDue"] == "800.00"
    books_now = cash_books(rt)
    assert (books_now["AR"], books_now["Customer credit"], books_now["Clearing"]) == (
        800 * D, 0, 200 * D)
    assert books.clearing_balance("USD") == 200 * D


def test_a_eur_overpayment_becomes_credit_then_settles_the_next_invoice_on_intacct(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Klein GmbH is billed EUR 1,000.00 a month for two months, in EUR throughout (Stripe, Sage
    Intacct), and pays the first invoice EUR 1,200.00: Stripe keeps EUR 200.00 as its credit
    and uses it on the second invoice (EUR 800.00 due, paid by card). Fees 2.9% + 0.30:
    1,200.00 → 35.10, 800.00 → 23.50 (the emulator charges the same figures in every currency).

                                          Dr          Cr       (EUR)
        AR payment        Undeposited  1,000.00
                          AR                     1,000.00
        AR advance        Undeposited    200.00
                          Cust. advances           200.00
        card fee          Card fees       35.10
                          Undeposited               35.10
        payout 1          Cash         1,164.90
                          Undeposited            1,164.90
        advance applied   Cust. advances 200.00
                          AR                       200.00   (invoice 2)
        AR payment        Undeposited    800.00
                          AR                       800.00
        card fee          Card fees       23.50
                          Undeposited               23.50
        payout 2          Cash           776.50
                          Undeposited               776.50

    After: Cash 1,941.40 = 2,000.00 - 58.60; AR 0; customer credit 0; Clearing 0; Stripe's EUR
    balance 0; a replay books nothing."""
    stack, rt = books_stack, books_rt
    client = stripe_client(stack)
    opp = seed(stack, DealSpec(
        "Klein GmbH - Platform", "Klein GmbH", "max@sales.example", "EUR", "Monthly", "Net 30",
        2, [LineSpec("Platform Subscription", 1, Decimal(2000), "Recurring")], today(stack)))
    sync_once(rt)
    (first,) = mirrored(sessions, opp)
    assert (first.total_minor, first.currency) == (1000 * D, "EUR")
    customer = client.v1.invoices.retrieve(first.billing_id)["customer"]
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})["id"]
    intent = client.v1.payment_intents.create({
        "amount": 1200 * D, "currency": "eur", "customer": customer, "payment_method": pm,
        "confirm": True})
    sandbox_post(stack, f"/sandbox/invoices/{first.billing_id}/overpay",
                 {"payment_intent": str(intent["id"])})
    assert client.v1.customers.retrieve(customer)["balance"] == -200 * D
    sync_once(rt)
    (held,) = ia_records(stack, ADVANCE, f"{first.billing_id}:overpaid")
    assert (held["currency"]["txnCurrency"], held["totalTxnAmount"]) == ("EUR", "200.00")
    advance_past_renewal(stack)
    sync_once(rt)
    second = next(i for i in mirrored(sessions, opp) if i.billing_id != first.billing_id)
    assert client.v1.invoices.retrieve(second.billing_id)["amount_due"] == 800 * D
    pay(stack, second.billing_id)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(116490, "paid"), (77650, "paid")]
    assert run_cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"], books["Customer credit"],
            books["Card fees"]) == (194140, 0, 0, 0, 5860)
    assert rt.cash is not None and rt.cash.reads.balance().get("EUR", 0) == 0
    assert rt.cash.erp.clearing_balance("EUR") == 0
    assert findings(rt) == []
    before = entries(rt)
    sync_once(rt)
    run_cash(rt)
    assert entries(rt) == before
