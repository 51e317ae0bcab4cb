"""The pipeline with NetSuite as the ERP: httpx with token-based auth over HTTPS to the NetSuite
emulator, next to the Salesforce and Stripe emulators. Records are upserted by external ID, so
a second run, a payment or a credit lands once; the audit reads NetSuite back through SuiteQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.netsuite import NetSuiteEmulator
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice, Deal, SyncException
from sync.engine.billing_events import poll_events
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings, sync_and_die_after

KINDS = ("customer", "salesOrder", "invoice", "customerPayment", "creditMemo")


@pytest.fixture
def ns_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        yield stack


@pytest.fixture
def ns_runtime(ns_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return build_runtime(make_settings(ns_stack, db_url), sessions)


def _netsuite(stack: SandboxStack) -> NetSuiteEmulator:
    assert stack.netsuite is not None
    return stack.netsuite


def _counts(stack: SandboxStack) -> Counter[str]:
    return Counter({kind: len(_netsuite(stack).records(kind)) for kind in KINDS})


def _status(sessions: sessionmaker[Session], opp: str) -> str:
    with transaction(sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None
        return deal.status


def test_demo_book_posts_to_netsuite_once(
    ns_stack: SandboxStack, ns_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    assert ns_runtime.erp.name == "netsuite"
    seeder = BookSeeder(ns_stack.salesforce)
    ids = {deal.account: seeder.seed(deal) for deal in demo_deals()}
    sync_once(ns_runtime)
    assert {name: _status(sessions, opp) for name, opp in ids.items()} == {
        "Acme Corp": "synced", "Globex": "exception", "Initech": "awaiting_approval",
        "Umbrella Health": "synced", "Wayne Enterprises GmbH": "synced",
    }
    ns = _netsuite(ns_stack)
    acme = ids["Acme Corp"]
    (customer,) = [c for c in ns.records("customer") if c["companyName"] == "Acme Corp"]
    assert customer["externalId"] == ns_stack.salesforce.get("Opportunity", acme)["AccountId"]
    (order,) = [o for o in ns.records("salesOrder") if o["externalId"] == f"{acme}:v1"]
    assert Decimal(str(order["total"])) == Decimal("120000")
    assert [Decimal(str(line["amount"])) for line in order["item"]["items"]] == [
        Decimal("20000"), Decimal("100000")]
    with transaction(sessions) as s:
        mirror = s.scalar(select(BillingInvoice).where(BillingInvoice.opportunity_id == acme))
        assert mirror is not None
        billing_id, number = mirror.billing_id, mirror.number
    (invoice,) = [i for i in ns.records("invoice") if i["externalId"] == billing_id]
    assert invoice["tranId"] == number and invoice["entity"]["id"] == customer["id"]
    assert Decimal(str(invoice["amountRemaining"])) == Decimal("120000")
    # The EUR deal is posted in EUR.
    eur = next(c["id"] for c in ns.records("currency") if c["symbol"] == "EUR")
    (wayne,) = [i for i in ns.records("invoice") if i["currency"]["id"] == eur]
    assert Decimal(str(wayne["total"])) == Decimal("30000")
    # Salesforce carries NetSuite's sales order id.
    written = ns_stack.salesforce.get("Opportunity", acme)
    assert written["ERP_Sales_Order_Id__c"] == order["id"]

    # Items: one per product on the sales orders, and standing ones for invoice lines.
    assert sorted(i["itemId"] for i in ns.records("serviceSaleItem")) == [
        "Implementation Services", "One-time charges", "Platform Seats",
        "Platform Subscription", "Subscription"]

    before = _counts(ns_stack)
    assert before == Counter(customer=3, salesOrder=3, invoice=3)
    sync_once(ns_runtime)
    assert _counts(ns_stack) == before
    report = run_audit(ns_runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_payment_and_credit_reach_netsuite_once(
    ns_stack: SandboxStack, ns_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(ns_stack.salesforce).seed(demo_deals()[3])  # Umbrella, quarterly $30K
    sync_once(ns_runtime)
    with transaction(sessions) as s:
        billing_id = s.scalar(select(BillingInvoice.billing_id).where(
            BillingInvoice.opportunity_id == opp))
    assert billing_id
    client = stripe.StripeClient(ns_stack.stripe.api_key,
                                 base_addresses={"api": ns_stack.stripe.url})
    # The key an approved credit carries (`closebot:credit:<approval>`): a concession.
    credit = ns_runtime.billing.credit_invoice(billing_id, amount_minor=500_000,
                                               reason="late onboarding",
                                               key="closebot:credit:test-1")
    ns = _netsuite(ns_stack)
    (invoice,) = [i for i in ns.records("invoice") if i["externalId"] == billing_id]
    memo = ns_runtime.erp.post_credit_memo(credit, invoice_id=invoice["id"])
    assert ns_runtime.erp.post_credit_memo(credit, invoice_id=invoice["id"]) == memo
    client.v1.invoices.pay(billing_id, {"paid_out_of_band": True})
    poll_events(ns_runtime)
    sync_once(ns_runtime)
    invoice = ns.get("invoice", invoice["id"])
    assert invoice is not None
    assert Decimal(str(invoice["amountRemaining"])) == 0
    (payment,) = ns.records("customerPayment")
    assert Decimal(str(payment["payment"])) == Decimal("25000")
    assert len(ns.records("creditMemo")) == 1
    sync_once(ns_runtime)
    assert len(ns.records("customerPayment")) == 1
    report = run_audit(ns_runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_refused_credentials_become_an_exception_not_a_crash(
    ns_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = make_settings(ns_stack, db_url, netsuite_token_secret="not-the-secret",
                             max_attempts=1)
    runtime = build_runtime(settings, sessions)
    opp = BookSeeder(ns_stack.salesforce).seed(demo_deals()[0])
    sync_once(runtime)
    assert _status(sessions, opp) == "exception"
    with transaction(sessions) as s:
        (exc,) = s.scalars(select(SyncException).where(SyncException.opportunity_id == opp))
        assert "NetSuite refused closebot's credentials" in exc.reason
        assert "not-the-secret" not in (exc.reason + (exc.detail or ""))
    assert _netsuite(ns_stack).records("customer") == []
    # Stripe was billed; NetSuite posting waits for a person to fix the credentials.
    assert len(ns_stack.stripe.objects("subscription")) == 1


@pytest.mark.parametrize("method", ["upsert_sales_order", "post_invoice"])
def test_a_worker_killed_after_a_netsuite_write_creates_nothing_twice(
    method: str, ns_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    deals = [d for d in demo_deals() if d.cadence and d.account != "Initech"]
    ids = [BookSeeder(ns_stack.salesforce).seed(d) for d in deals]
    settings = make_settings(ns_stack, db_url, lease_s=1)
    sync_and_die_after(settings, "erp", method)
    runtime = build_runtime(settings, sessions)
    sync_once(runtime)
    sync_once(runtime)
    assert {_status(sessions, opp) for opp in ids} == {"synced"}
    ns = _netsuite(ns_stack)
    assert len(ns.records("salesOrder")) == len(ids)
    assert len(ns.records("invoice")) == len(ns_stack.stripe.objects("invoice"))
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()

