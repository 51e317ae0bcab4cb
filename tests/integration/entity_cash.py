"""What the two-entity cash examples share on every ERP: Acme Inc (US, USD) and Acme Ltd (UK,
GBP), each a Stripe Connect account of the platform, one invoice paid by card and one payout in
each (tests/integration/test_entity_cash.py has the worked example by hand)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import stripe
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import clocked, today

US_ACCOUNT, UK_ACCOUNT = "acct_1AcmeIncUS00001", "acct_1AcmeLtdUK00001"


def entities(**on_erp: tuple[str, str]) -> str:
    """ENTITIES naming both; each of `on_erp` a setting with Acme Inc's and Acme Ltd's value
    (netsuite_subsidiary=("1", "2"): each entity's own subsidiary)."""
    return json.dumps([
        {"name": "Acme Inc", "billing_entity": ["US"], "countries": ["US"],
         "stripe_account": US_ACCOUNT, "functional_currency": "USD"}
        | {k: v[0] for k, v in on_erp.items()},
        {"name": "Acme Ltd", "billing_entity": ["UK"], "countries": ["GB"],
         "stripe_account": UK_ACCOUNT, "functional_currency": "GBP"}
        | {k: v[1] for k, v in on_erp.items()},
    ])


def entity_runtime(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
                   **overrides: Any) -> Runtime:
    """Both entities' Stripe accounts connected to the platform; the runtime with `overrides`
    (ENTITIES at least), its clock Stripe's."""
    for account in (US_ACCOUNT, UK_ACCOUNT):
        stack.stripe.add_connected_account(account)
    return clocked(stack, db_url, sessions, **overrides)


def deal(stack: SandboxStack, account: str, currency: str, amount: int, country: str) -> None:
    BookSeeder(stack.salesforce).seed(DealSpec(
        f"{account} - Platform", account, "dana@sales.example", currency, "Annual", "Net 30", 12,
        [LineSpec("Platform Subscription", 1, Decimal(amount), "Recurring")], today(stack),
        account_extra={"BillingCountry": country}))


def pay_by_card(stack: SandboxStack, account: str) -> None:
    """Pay the connected account's one invoice by card, in that account."""
    client = stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})
    on = {"stripe_account": account}
    (invoice,) = stack.stripe.account(account).objects("invoice")
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": invoice["customer"]},
                                          options=on)
    client.v1.invoices.pay(invoice["id"], {"payment_method": pm["id"]}, options=on)


def payouts(stack: SandboxStack, account: str | None) -> list[tuple[int, str, str]]:
    return [(p["amount"], p["currency"], p["status"])
            for p in stack.stripe.account(account).objects("payout")]


def both_paid_out(stack: SandboxStack, rt: Runtime) -> None:
    """Initrode's USD 1,000.00 invoice (Acme Inc) and Hooli UK's GBP 500.00 (Acme Ltd) synced,
    each paid by card in its account, the payments synced, and each account's payout paid:
    USD 970.70 and GBP 485.20, after fees of 29.30 and 14.80."""
    deal(stack, "Initrode", "USD", 1000, "US")
    deal(stack, "Hooli UK", "GBP", 500, "GB")
    sync_once(rt)
    pay_by_card(stack, US_ACCOUNT)
    pay_by_card(stack, UK_ACCOUNT)
    sync_once(rt)  # each account's events poll brings its payment: Dr Clearing / Cr AR
    stack.stripe.advance(days=4)
    assert payouts(stack, US_ACCOUNT) == [(97_070, "usd", "paid")]
    assert payouts(stack, UK_ACCOUNT) == [(48_520, "gbp", "paid")]


def cash_figures(entities: dict[str, Any]) -> dict[str, tuple[str, int, int, int]]:
    """(currency, Stripe's balance, Clearing, still to book) of each entity, as audited."""
    out = {}
    for name, found in entities.items():
        for currency, figures in found["totals"].items():
            if "clearing" in figures:
                out[name] = (currency, figures["stripe_balance"], figures["clearing"],
                             figures["clearing_to_book"])
    return out


def assert_each_entity_settled(rt: Runtime) -> None:
    """The audit clean, each entity's Stripe balance, Clearing and cash to book all 0."""
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()
    assert cash_figures(report.entities) == {
        "Acme Inc": ("USD", 0, 0, 0), "Acme Ltd": ("GBP", 0, 0, 0)}
