"""Multi-entity routing end to end: each deal read from the Salesforce emulator is routed to the
legal entity that sells it; a deal no entity sells is a validation exception and nothing is
created for it anywhere, on the first pass or any replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice, ContractVersion, SyncException
from sync.engine.entity_accounts import entities_of
from sync.engine.webhooks import reconcile_open_invoices
from sync.ledger.entity_books import trial_balances_by_entity
from sync.ops.audit import run_audit
from sync.ops.dryrun import dry_run
from sync.ops.reconcile import run_reconciliation
from sync.ops.tieout import latest
from tests.integration.conftest import make_settings

US_ACCOUNT, UK_ACCOUNT = "acct_1AcmeIncUS00001", "acct_1AcmeLtdUK00001"
ENTITIES = json.dumps([
    {"name": "Acme Inc", "billing_entity": ["US"], "countries": ["US"],
     "stripe_account": US_ACCOUNT, "functional_currency": "USD", "approvers": ["UUS1"]},
    {"name": "Acme Ltd", "billing_entity": ["UK"], "countries": ["GB"],
     "stripe_account": UK_ACCOUNT, "functional_currency": "GBP", "approvers": ["UUK1"]},
])


def _deals() -> list[DealSpec]:
    start = datetime.now(UTC).date()
    return [
        # USD 120,000.00: a 20,000.00 fee and 100,000.00 of subscription, routed by country.
        DealSpec("Initrode - Platform", "Initrode", "dana@sales.example", "USD", "Annual",
                 "Net 30", 10, [LineSpec("Implementation Services", 1, Decimal("20000"),
                                         "One-Time"),
                                LineSpec("Platform Subscription", 1, Decimal("100000"),
                                         "Recurring")], start,
                 account_extra={"BillingCountry": "US"}),
        # GBP 60,000.00 a year, named in Billing Entity though the account bills to the US.
        DealSpec("Hooli UK - Platform", "Hooli UK", "sam@sales.example", "GBP", "Annual",
                 "Net 30", 12, [LineSpec("Platform Subscription", 1, Decimal("60000"),
                                         "Recurring")], start,
                 extra={"Billing_Entity__c": "UK"}, account_extra={"BillingCountry": "US"}),
        # EUR 30,000.00 to Germany: no entity sells there, and Billing Entity is empty.
        DealSpec("Wayne GmbH - Platform", "Wayne GmbH", "max@sales.example", "EUR", "Annual",
                 "Net 30", 12, [LineSpec("Platform Subscription", 1, Decimal("30000"),
                                         "Recurring")], start,
                 account_extra={"BillingCountry": "DE"}),
    ]


@pytest.fixture
def routed(stack: SandboxStack, db_url: str,
           sessions: sessionmaker[Session]) -> tuple[dict[str, str], object]:
    seeder = BookSeeder(stack.salesforce)
    ids = {spec.account: seeder.seed(spec) for spec in _deals()}
    for account in (US_ACCOUNT, UK_ACCOUNT):
        stack.stripe.add_connected_account(account)
    rt = build_runtime(make_settings(stack, db_url, entities=ENTITIES), sessions)
    sync_once(rt)
    return ids, rt


def _entities(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    with transaction(sessions) as session:
        return {c.opportunity_id: c.body.get("entity")
                for c in session.scalars(select(ContractVersion))}


def test_each_deal_carries_the_entity_that_sells_it(
        routed: tuple[dict[str, str], object], sessions: sessionmaker[Session],
        stack: SandboxStack) -> None:
    ids, _rt = routed
    assert _entities(sessions) == {ids["Initrode"]: "Acme Inc", ids["Hooli UK"]: "Acme Ltd"}
    # Each entity's Stripe account holds its own customer and invoice; the platform none.
    # Acme Inc: USD 120,000.00 billed at once (the fee and the 10-month term, annual billing).
    # Acme Ltd: GBP 60,000.00, the first (only) year.
    assert _billed(stack, None) == []
    assert _billed(stack, US_ACCOUNT) == [("Initrode", "usd", 12_000_000)]
    assert _billed(stack, UK_ACCOUNT) == [("Hooli UK", "gbp", 6_000_000)]
    with transaction(sessions) as session:
        mirrored = {(i.opportunity_id, i.currency, i.total_minor)
                    for i in session.scalars(select(BillingInvoice))}
    assert mirrored == {(ids["Initrode"], "USD", 12_000_000),
                        (ids["Hooli UK"], "GBP", 6_000_000)}


def test_the_audit_reports_each_entity_and_the_total(
        routed: tuple[dict[str, str], object], sessions: sessionmaker[Session]) -> None:
    """By hand: Acme Inc booked USD 120,000.00 and Stripe (its account) billed all of it at
    once; Acme Ltd booked GBP 60,000.00, billed at once. The ledger holds each as one sales
    order and one invoice, all open. The total is the two side by side, per currency."""
    _ids, rt = routed
    report = run_audit(rt, require_alerts=False)  # type: ignore[arg-type]
    assert report.ok, report.problems()
    figures = {"booked", "billed", "erp_orders", "erp_invoiced", "stripe_open",
               "erp_receivable"}
    us = {k: v for k, v in report.entities["Acme Inc"]["totals"]["USD"].items() if k in figures}
    uk = {k: v for k, v in report.entities["Acme Ltd"]["totals"]["GBP"].items() if k in figures}
    assert us == dict.fromkeys(figures, 12_000_000)
    assert uk == dict.fromkeys(figures, 6_000_000)
    assert set(report.entities) == {"Acme Inc", "Acme Ltd"}
    assert [report.entities[e]["variances"] for e in ("Acme Inc", "Acme Ltd")] == [0, 0]
    assert report.totals["USD"]["booked"] == 12_000_000
    assert report.totals["GBP"]["booked"] == 6_000_000
    assert report.to_dict()["entities"] == report.entities
    # The nightly reconciliation keeps the same split for the digest's tie-out.
    run_reconciliation(rt)  # type: ignore[arg-type]
    with transaction(sessions) as session:
        kept = latest(session)
    assert kept is not None and kept.entities == report.entities


def test_a_payment_in_an_entitys_account_reaches_its_books(
        routed: tuple[dict[str, str], object], sessions: sessionmaker[Session],
        stack: SandboxStack) -> None:
    """Hooli UK pays its GBP 60,000.00 in Acme Ltd's Stripe account: the events poll of that
    account brings it in, the ledger posts it, and Acme Ltd's receivable is GBP 0.00 in both
    Stripe and the ERP while Acme Inc's USD 120,000.00 stays open."""
    _ids, rt = routed
    client = stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})
    (invoice,) = stack.stripe.account(UK_ACCOUNT).objects("invoice")
    client.v1.invoices.pay(invoice["id"], {"paid_out_of_band": True},
                           options={"stripe_account": UK_ACCOUNT})
    sync_once(rt)  # type: ignore[arg-type]
    # Open invoices are re-read in the account that holds them.
    assert reconcile_open_invoices(rt)["unchanged"] == 1  # type: ignore[arg-type]
    report = run_audit(rt, require_alerts=False)  # type: ignore[arg-type]
    assert report.ok, report.problems()
    uk = report.entities["Acme Ltd"]["totals"]["GBP"]
    us = report.entities["Acme Inc"]["totals"]["USD"]
    assert (uk["stripe_open"], uk["erp_receivable"]) == (0, 0)
    assert (us["stripe_open"], us["erp_receivable"]) == (12_000_000, 12_000_000)
    with transaction(sessions) as session:
        paid = session.scalar(select(BillingInvoice).where(
            BillingInvoice.billing_id == invoice["id"]))
        assert paid is not None and paid.amount_remaining_minor == 0

    # Each entity's trial balance on the ledger, by hand (debits positive): Acme Inc has
    # Dr AR 120,000.00 / Cr Deferred Revenue 120,000.00; Acme Ltd had Dr AR 60,000.00 / Cr
    # Deferred Revenue 60,000.00, then Dr Stripe Clearing / Cr AR 60,000.00 for the payment.
    with transaction(sessions) as session:
        books = trial_balances_by_entity(session, entities_of(session))
    assert books == {
        "Acme Inc": {"USD": {"1100": 12_000_000, "2100": -12_000_000}},
        "Acme Ltd": {"GBP": {"1200": 6_000_000, "2100": -6_000_000}},
    }
    assert all(sum(accounts.values()) == 0
               for entity in books.values() for accounts in entity.values())


def test_a_dry_run_creates_nothing_in_any_entitys_account(
        stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> None:
    seeder = BookSeeder(stack.salesforce)
    ids = {spec.account: seeder.seed(spec) for spec in _deals()}
    for account in (US_ACCOUNT, UK_ACCOUNT):
        stack.stripe.add_connected_account(account)
    rt = build_runtime(make_settings(stack, db_url, entities=ENTITIES), sessions)
    plan = dry_run(rt, opportunity_ids=list(ids.values()))
    outcomes = {d.opportunity_id: d.outcome for d in plan.deals}
    assert outcomes == {ids["Initrode"]: "sync", ids["Hooli UK"]: "sync",
                        ids["Wayne GmbH"]: "invalid"}
    (wayne,) = [d for d in plan.deals if d.opportunity_id == ids["Wayne GmbH"]]
    assert any("no entity sells to the account's Billing Country 'DE'" in p
               for p in wayne.problems)
    assert all(_billed(stack, a) == [] for a in (None, US_ACCOUNT, UK_ACCOUNT))


def _billed(stack: SandboxStack, account: str | None) -> list[tuple[str, str, int]]:
    """(customer, currency, total) of each invoice in a Stripe account."""
    space = stack.stripe.account(account)
    names = {c["id"]: c["name"] for c in space.objects("customer")}
    return sorted((names[i["customer"]], i["currency"], i["total"])
                  for i in space.objects("invoice"))


def test_an_unknown_entity_is_an_exception_and_nothing_is_created(
        routed: tuple[dict[str, str], object], sessions: sessionmaker[Session],
        stack: SandboxStack) -> None:
    ids, rt = routed
    wayne = ids["Wayne GmbH"]
    with transaction(sessions) as session:
        (exc,) = session.scalars(select(SyncException).where(
            SyncException.opportunity_id == wayne))
        assert exc.kind == "validation" and exc.fields == ["Billing_Entity__c"]
        assert ("Billing Entity is empty and no entity sells to the account's Billing Country "
                "'DE': set Billing Entity to one of Acme Inc, Acme Ltd") in exc.reason
    assert all(c["name"] != "Wayne GmbH" for account in (None, US_ACCOUNT, UK_ACCOUNT)
               for c in stack.stripe.account(account).objects("customer"))
    opportunity = stack.salesforce.get("Opportunity", wayne)
    assert "Billing Entity" in (opportunity["Sync_Error__c"] or "")
    assert not opportunity["Stripe_Customer_Id__c"]

    # A replay (the same deals read again) creates nothing new in any account.
    before = {a: _billed(stack, a) for a in (None, US_ACCOUNT, UK_ACCOUNT)}
    sync_once(rt)  # type: ignore[arg-type]
    assert {a: _billed(stack, a) for a in (None, US_ACCOUNT, UK_ACCOUNT)} == before
    with transaction(sessions) as session:
        assert len(session.scalars(select(SyncException)).all()) == 1
    assert _entities(sessions) == {ids["Initrode"]: "Acme Inc", ids["Hooli UK"]: "Acme Ltd"}

    # Fixed in Salesforce (the UK entity sells it after all): it is billed on the next pass.
    stack.salesforce.update("Opportunity", wayne, {"Billing_Entity__c": "Acme Ltd"})
    sync_once(rt)  # type: ignore[arg-type]
    assert _entities(sessions)[wayne] == "Acme Ltd"
    assert ("Wayne GmbH", "eur", 3_000_000) in _billed(stack, UK_ACCOUNT)
