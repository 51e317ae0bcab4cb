"""Each legal entity's cash from its own Stripe account, into its own books: two entities, Acme
Inc (US, USD) and Acme Ltd (UK, GBP), each a Stripe Connect account of the platform; one
invoice paid by card and one payout in each, booked by the cash run on the embedded ledger.

Card fees are the emulator's 2.9% + 0.30 in the charge's currency; card funds are available two
days after the charge and paid out daily, arriving the next day.

    Acme Inc, USD: Initrode pays its 1,000.00 invoice; fee 29.00 + 0.30 = 29.30;
                   payout 1,000.00 - 29.30 = 970.70.
    Acme Ltd, GBP: Hooli UK pays its 500.00 invoice; fee 14.50 + 0.30 = 14.80;
                   payout 500.00 - 14.80 = 485.20.

                              Acme Inc (USD)          Acme Ltd (GBP)
                              Dr         Cr           Dr         Cr
    invoice    AR          1,000.00                 500.00
               Deferred               1,000.00                  500.00
    payment    Clearing    1,000.00                 500.00
               AR                     1,000.00                  500.00
    card fee   Card fees      29.30                  14.80
               Clearing                  29.30                   14.80
    payout     Cash          970.70                 485.20
               Clearing                 970.70                  485.20

After, per entity: AR 0, Clearing 0, Cash = its payout, Card fees = its fee, Deferred revenue
= the invoice; each trial balance adds to zero; each Stripe account's balance is 0; the
company's own account and books hold none of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from sandbox.stack import SandboxStack
from storage.db import transaction
from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import Runtime
from sync.ledger.entity_books import NO_ENTITY, trial_balances_by_entity
from sync.ops.audit import run_audit
from tests.integration.books import journal_entries
from tests.integration.entity_cash import (
    UK_ACCOUNT,
    assert_each_entity_settled,
    both_paid_out,
    cash_figures,
    deal,
    entities,
    entity_runtime,
    payouts,
)

ENTITIES = entities()
CASH, AR, CLEARING, DEFERRED, CARD_FEES = "1000", "1100", "1200", "2100", "6100"
CUSTOMER_CREDIT = "2200"


@pytest.fixture
def ledger_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="ledger", slack=False) as stack:
        yield stack


@pytest.fixture
def rt(ledger_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return entity_runtime(ledger_stack, db_url, sessions, entities=ENTITIES)


def _books(rt: Runtime) -> dict[str, dict[str, dict[str, int]]]:
    with transaction(rt.sessions) as session:
        return trial_balances_by_entity(session, entities_of(session))


def test_each_entitys_payout_is_booked_in_its_own_books(
        ledger_stack: SandboxStack, rt: Runtime) -> None:
    stack = ledger_stack
    both_paid_out(stack, rt)
    assert payouts(stack, None) == []

    # Before the cash run, each entity's audit sees its own Clearing holding its payment,
    # Stripe's balance spent, and its paid payout not booked: a variance naming the entity.
    report = run_audit(rt, require_alerts=False)
    assert sorted((v.kind, v.reason.split(":")[0], v.currency) for v in report.variances) == [
        ("payout_not_settled", "Acme Inc", "USD"), ("payout_not_settled", "Acme Ltd", "GBP")]
    assert cash_figures(report.entities) == {
        "Acme Inc": ("USD", 0, 100_000, -100_000), "Acme Ltd": ("GBP", 0, 50_000, -50_000)}

    counts = run_job(rt, "cash")
    assert (counts["payouts"], counts["settled"], counts["transactions"]) == (2, 2, 2)
    assert counts["cash_exceptions"] == 0
    assert _books(rt) == {
        "Acme Inc": {"USD": {CASH: 97_070, DEFERRED: -100_000, CARD_FEES: 2_930}},
        "Acme Ltd": {"GBP": {CASH: 48_520, DEFERRED: -50_000, CARD_FEES: 1_480}},
    }
    assert NO_ENTITY not in _books(rt)  # AR and Clearing are 0 in each, so not shown
    # Stripe's side: each account's balance is spent, the company's was never touched.
    for name in ("Acme Inc", "Acme Ltd"):
        assert set(rt.entity_cash[name].reads.balance().values()) <= {0}
    # Each entity's cash audit ties its payout and Clearing to its own Stripe account.
    assert_each_entity_settled(rt)

    before = journal_entries(rt.sessions)
    run_job(rt, "cash")  # a replay (the next scheduler tick, a restart) books nothing again
    assert journal_entries(rt.sessions) == before


def test_an_overpayment_in_an_entitys_account_is_its_customer_credit(
        ledger_stack: SandboxStack, rt: Runtime) -> None:
    """Hooli UK pays its GBP 500.00 invoice 600.00 in Acme Ltd's account; Stripe puts the
    100.00 excess on Hooli UK's credit balance there. In Acme Ltd's books, by hand:

        invoice      AR 500.00 / Deferred revenue 500.00
        payment      Clearing 500.00 / AR 500.00
        overpayment  Clearing 100.00 / Customer credit 100.00

    so Acme Ltd holds Clearing 600.00 (Stripe's, until the payout), Customer credit (100.00),
    Deferred revenue (500.00); nothing under "(no entity)"."""
    stack = ledger_stack
    deal(stack, "Hooli UK", "GBP", 500, "GB")
    sync_once(rt)
    client = stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})
    on = {"stripe_account": UK_ACCOUNT}
    (invoice,) = stack.stripe.account(UK_ACCOUNT).objects("invoice")
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": invoice["customer"]},
                                          options=on)
    pi = client.v1.payment_intents.create(
        {"amount": 60_000, "currency": "gbp", "customer": invoice["customer"],
         "payment_method": pm["id"], "confirm": True}, options=on)
    response = httpx.post(f"{stack.stripe.url}/sandbox/invoices/{invoice['id']}/overpay",
                          data={"payment_intent": pi["id"]}, auth=(stack.stripe.api_key, ""),
                          headers={"Stripe-Account": UK_ACCOUNT})
    response.raise_for_status()
    sync_once(rt)
    assert _books(rt) == {
        "Acme Ltd": {"GBP": {CLEARING: 60_000, CUSTOMER_CREDIT: -10_000, DEFERRED: -50_000}},
    }
