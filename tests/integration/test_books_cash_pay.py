"""Partial payments and overpayments end to end: Stripe invoices paid in parts or beyond what
is due, posted by closebot to the embedded ledger, NetSuite or Sage Intacct, paid out by Stripe
and booked by the cash run, tied out to the cent against Stripe's payouts, its balance and the
customer's credit balance.

Card fees are 2.9% + $0.30 (the emulator's, Stripe's US list price): $400.00 → $11.90;
$600.00 → $17.70; $1,200.00 → $35.10; $800.00 → $23.50. Card funds are available two days
after the charge and paid out daily; the payout arrives the next day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.tables import SyncException
from storage.timeutil import utcnow
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    advance,
    advance_past_renewal,
    books_rt,  # noqa: F401 - a fixture
    mirrored,
    seed,
    stripe_client,
    today,
)
from tests.integration.cash import (
    billed,
    books_stack,  # noqa: F401 - a fixture
    cash,
    cash_books,
    entries,
    findings,
    invoice_state,
    pay,
    payouts,
    stripe_balance,
)
from tests.integration.conftest import make_settings
from tests.integration.test_books_credit import _approve_credit

D = 100  # $1.00 in cents


def card_payment(stack: SandboxStack, invoice_id: str, cents: int) -> str:
    """A card payment of `cents` by the invoice's customer, not yet on any invoice."""
    client = stripe_client(stack)
    customer = client.v1.invoices.retrieve(invoice_id)["customer"]
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})["id"]
    pi = client.v1.payment_intents.create({"amount": cents, "currency": "usd",
                                           "customer": customer, "payment_method": pm,
                                           "confirm": True})
    assert pi["status"] == "succeeded"
    return str(pi["id"])


def post_form(stack: SandboxStack, path: str, data: dict[str, str]) -> None:
    response = httpx.post(f"{stack.stripe.url}{path}", data=data,
                          auth=(stack.stripe.api_key, ""))
    response.raise_for_status()


def test_partial_payment_then_the_rest(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme's 1,000.00 invoice is paid 400.00 first (a payment attached to it, as Stripe's
    partial payments do), then the 600.00 left.

                                  Dr          Cr
        payment 1   Clearing    400.00
                    AR                     400.00      AR left 600.00
        card fee    Card fees    11.90
                    Clearing                11.90
        payout 1    Cash        388.10
                    Clearing               388.10
        payment 2   Clearing    600.00
                    AR                     600.00      AR 0
        card fee    Card fees    17.70
                    Clearing                17.70
        payout 2    Cash        582.30
                    Clearing               582.30

    After: Cash 970.40 = 388.10 + 582.30 = 1,000.00 - 29.60; AR 0; Clearing 0; Stripe's
    balance 0; two payments in the books, each once.
    """
    stack, rt = books_stack, books_rt
    acme = billed(stack, rt, sessions, "Acme", 1000)
    post_form(stack, f"/v1/invoices/{acme}/attach_payment",
              {"payment_intent": card_payment(stack, acme, 400 * D)})
    assert stripe_client(stack).v1.invoices.retrieve(acme)["amount_remaining"] == 600 * D
    sync_once(rt)  # the partial payment reaches the books
    assert invoice_state(rt, stack, acme) == (400 * D, 600 * D)
    assert cash_books(rt)["AR"] == 600 * D
    advance(stack, days=4)
    assert payouts(stack) == [(38810, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"]) == (38810, 0, 600 * D)
    pay(stack, acme)  # the rest, by card: Stripe charges what remains
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(38810, "paid"), (58230, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"], books["Card fees"],
            books["Customer credit"]) == (97040, 0, 0, 2960, 0)
    assert invoice_state(rt, stack, acme) == (1000 * D, 0)
    assert stripe_balance(rt) == 0 and findings(rt) == []
    before = entries(rt)
    sync_once(rt)  # a replay (a duplicate event, a restart) books nothing again
    cash(rt)
    assert entries(rt) == before
    report = run_audit(rt, require_alerts=False)
    assert report.failing == [], report.problems()


def two_months(stack: SandboxStack) -> str:
    """Acme, billed 1,000.00 a month for two months."""
    return seed(stack, DealSpec(
        "Acme - Platform", "Acme", "dana@sales.example", "USD", "Monthly", "Net 30", 2,
        [LineSpec("Platform Subscription", 1, Decimal(2000), "Recurring")], today(stack),
    ))


def test_overpayment_becomes_credit_then_settles_the_next_invoice(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme is billed 1,000.00 a month for two months and pays the first invoice 1,200.00 by
    bank transfer: Stripe marks it paid and puts the 200.00 excess on Acme's credit balance,
    which it uses when the second invoice is finalized (1,000.00, 800.00 due).

                                          Dr          Cr
        invoice 1 paid    Clearing    1,200.00
                          AR                     1,000.00
                          Customer credit          200.00   (unapplied cash)
        card fee          Card fees      35.10
                          Clearing                  35.10
        payout 1          Cash        1,164.90
                          Clearing              1,164.90
        credit applied    Customer credit 200.00
                          AR                       200.00   (invoice 2)
        invoice 2 paid    Clearing      800.00
                          AR                       800.00
        card fee          Card fees      23.50
                          Clearing                  23.50
        payout 2          Cash          776.50
                          Clearing                 776.50

    After: Cash 1,941.40 = 2,000.00 - 58.60; AR 0; customer credit 0 (in Stripe too); Clearing
    0; Stripe's balance 0.
    """
    stack, rt = books_stack, books_rt
    client = stripe_client(stack)
    opp = two_months(stack)
    sync_once(rt)
    (first,) = mirrored(sessions, opp)
    assert first.total_minor == 1000 * D
    post_form(stack, f"/sandbox/invoices/{first.billing_id}/overpay",
              {"payment_intent": card_payment(stack, first.billing_id, 1200 * D)})
    customer = client.v1.invoices.retrieve(first.billing_id)["customer"]
    assert client.v1.customers.retrieve(customer)["balance"] == -200 * D
    sync_once(rt)
    books = cash_books(rt)
    assert (books["AR"], books["Customer credit"], books["Clearing"]) == (0, -200 * D, 1200 * D)
    assert invoice_state(rt, stack, first.billing_id) == (1000 * D, 0)
    before = entries(rt)
    sync_once(rt)  # the invoice's events again: nothing new
    assert entries(rt) == before
    advance_past_renewal(stack)  # the second month is billed; the first payout has arrived
    sync_once(rt)
    second = next(i for i in mirrored(sessions, opp) if i.billing_id != first.billing_id)
    stripe_second = client.v1.invoices.retrieve(second.billing_id)
    assert (stripe_second["total"], stripe_second["amount_due"]) == (1000 * D, 800 * D)
    assert client.v1.customers.retrieve(customer)["balance"] == 0
    pay(stack, second.billing_id)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(116490, "paid"), (77650, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"], books["Customer credit"],
            books["Card fees"]) == (194140, 0, 0, 0, 5860)
    assert invoice_state(rt, stack, second.billing_id) == (1000 * D, 0)
    assert stripe_balance(rt) == 0 and findings(rt) == []
    before = entries(rt)
    sync_once(rt)
    cash(rt)
    assert entries(rt) == before
    report = run_audit(rt, require_alerts=False)
    assert report.failing == [], report.problems()


@pytest.fixture
def intacct_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="intacct", slack=False) as stack:
        yield stack


def test_an_overpayment_on_an_erp_without_customer_credit_is_an_exception(
    intacct_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
) -> None:
    """Without cash books (no Stripe balance read, so no customer credit to keep) the 1,000.00
    due is applied and the 200.00 excess is a post exception naming it for finance, never
    dropped; a rerun raises nothing new."""
    stack = intacct_stack
    rt = build_runtime(make_settings(stack, db_url), sessions)
    rt.now = lambda: max(utcnow(), datetime.fromtimestamp(stack.stripe.now, UTC))
    rt.cash = None
    opp = two_months(stack)
    sync_once(rt)
    (first,) = mirrored(sessions, opp)
    post_form(stack, f"/sandbox/invoices/{first.billing_id}/overpay",
              {"payment_intent": card_payment(stack, first.billing_id, 1200 * D)})
    sync_once(rt)
    sync_once(rt)
    with sessions() as s:
        found = list(s.scalars(select(SyncException).where(
            SyncException.opportunity_id == opp, SyncException.status == "open")))
    assert [e.kind for e in found] == ["post"]
    assert "was overpaid by USD 200.00" in found[0].reason
    assert "record it there by hand" in found[0].reason


def test_a_credit_note_on_a_paid_invoice_settles_part_of_the_next(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """Acme pays its first 1,000.00 month by card, then is credited 100.00 on that paid invoice
    (an approved credit: a Stripe credit note to Acme's credit balance, an ERP credit memo left
    unapplied as the customer's credit). Stripe uses the credit on the second month: 900.00 due.

                                          Dr          Cr
        credit memo       (revenue)      100.00
                          Customer credit          100.00
        credit applied    Customer credit 100.00
                          AR                       100.00   (invoice 2)
        invoice 2 paid    Clearing       900.00
                          AR                       900.00

    Fees 29.30 + 26.40 = 55.70; payouts 970.70 + 873.60 = 1,844.30 = 1,900.00 - 55.70.
    After: AR 0, customer credit 0, Clearing 0, Stripe's balance 0.
    """
    stack, rt = books_stack, books_rt
    client = stripe_client(stack)
    opp = two_months(stack)
    sync_once(rt)
    (first,) = mirrored(sessions, opp)
    pay(stack, first.billing_id)
    sync_once(rt)
    _approve_credit(rt, opp, first.billing_id, 100 * D)
    customer = client.v1.invoices.retrieve(first.billing_id)["customer"]
    assert client.v1.customers.retrieve(customer)["balance"] == -100 * D
    books = cash_books(rt)
    assert (books["AR"], books["Customer credit"]) == (0, -100 * D)
    advance_past_renewal(stack)
    sync_once(rt)
    second = next(i for i in mirrored(sessions, opp) if i.billing_id != first.billing_id)
    assert client.v1.invoices.retrieve(second.billing_id)["amount_due"] == 900 * D
    pay(stack, second.billing_id)
    sync_once(rt)
    advance(stack, days=4)
    assert payouts(stack) == [(97070, "paid"), (87360, "paid")]
    assert cash(rt).problems == []
    books = cash_books(rt)
    assert (books["Cash"], books["Clearing"], books["AR"], books["Customer credit"],
            books["Card fees"]) == (184430, 0, 0, 0, 5570)
    assert invoice_state(rt, stack, second.billing_id)[1] == 0  # NetSuite: 900.00 paid
    assert stripe_balance(rt) == 0 and findings(rt) == []
    before = entries(rt)
    sync_once(rt)
    assert entries(rt) == before
