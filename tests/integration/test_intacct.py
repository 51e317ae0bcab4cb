"""The pipeline with Sage Intacct as the ERP: httpx with an OAuth 2.0 bearer token over HTTPS
to the Intacct emulator, next to the Salesforce and Stripe emulators. Records are read by their
reference number before they are written, so a second run, a payment or a credit lands once; the
audit reads Intacct back through the query service."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.intacct import IntacctEmulator
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.tables import BillingInvoice, Deal, SyncException
from sync.engine.billing_events import poll_events
from sync.engine.runtime import Runtime
from sync.errors import TransientError
from sync.model import Customer
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings, sync_and_die_after

CUSTOMER, ORDER = "accounts-receivable/customer", "order-entry/document::Sales Order"
INVOICE, PAYMENT = "accounts-receivable/invoice", "accounts-receivable/payment"
ADJUSTMENT = "accounts-receivable/adjustment"
KINDS = (CUSTOMER, ORDER, INVOICE, PAYMENT, ADJUSTMENT)


@pytest.fixture
def ia_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="intacct", slack=False) as stack:
        yield stack


@pytest.fixture
def ia_runtime(ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return build_runtime(make_settings(ia_stack, db_url), sessions)


def _intacct(stack: SandboxStack) -> IntacctEmulator:
    assert stack.intacct is not None
    return stack.intacct


def _counts(stack: SandboxStack) -> Counter[str]:
    return Counter({kind: len(_intacct(stack).records(kind)) for kind in KINDS})


def _status(sessions: sessionmaker[Session], opp: str) -> str:
    with transaction(sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None
        return deal.status


def _exception(sessions: sessionmaker[Session], opp: str) -> tuple[str, str]:
    """The deal's one exception: (reason, detail)."""
    assert _status(sessions, opp) == "exception"
    with transaction(sessions) as s:
        (exc,) = s.scalars(select(SyncException).where(SyncException.opportunity_id == opp))
        return exc.reason, exc.detail or ""


def _by_ref(stack: SandboxStack, obj: str, reference: str) -> dict:  # type: ignore[type-arg]
    (found,) = [r for r in _intacct(stack).records(obj) if r["referenceNumber"] == reference]
    return found


def test_demo_book_posts_to_intacct_once(
    ia_stack: SandboxStack, ia_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    assert ia_runtime.erp.name == "intacct"
    seeder = BookSeeder(ia_stack.salesforce)
    ids = {deal.account: seeder.seed(deal) for deal in demo_deals()}
    sync_once(ia_runtime)
    assert {name: _status(sessions, opp) for name, opp in ids.items()} == {
        "Acme Corp": "synced", "Globex": "exception", "Initech": "awaiting_approval",
        "Umbrella Health": "synced", "Wayne Enterprises GmbH": "synced",
    }
    ia = _intacct(ia_stack)
    acme = ids["Acme Corp"]
    account = ia_stack.salesforce.get("Opportunity", acme)["AccountId"]
    (customer,) = [c for c in ia.records(CUSTOMER) if c["name"] == "Acme Corp"]
    assert customer["id"] == account
    # Acme: $20,000 implementation + $100,000 subscription = $120,000 on the order and invoice.
    order = _by_ref(ia_stack, ORDER, f"{acme}:v1")
    assert order["totalTxnAmount"] == "120000.00"
    assert [line["txnAmount"] for line in order["lines"]] == ["20000.00", "100000.00"]
    with transaction(sessions) as s:
        mirror = s.scalar(select(BillingInvoice).where(BillingInvoice.opportunity_id == acme))
        assert mirror is not None
        billing_id, number = mirror.billing_id, mirror.number
    invoice = _by_ref(ia_stack, INVOICE, billing_id)
    assert invoice["invoiceNumber"] == number and invoice["customer"]["id"] == account
    assert (invoice["totalTxnAmount"], invoice["totalTxnAmountDue"],
            invoice["totalTxnAmountPaid"]) == ("120000.00", "120000.00", "0.00")
    assert {line["glAccount"]["id"] for line in invoice["lines"]} == {"2100"}
    # The EUR deal is posted in EUR: EUR 30,000.
    (wayne,) = [i for i in ia.records(INVOICE) if i["currency"]["txnCurrency"] == "EUR"]
    assert wayne["totalTxnAmount"] == "30000.00"
    # Salesforce carries Intacct's sales order key.
    assert ia_stack.salesforce.get("Opportunity", acme)["ERP_Sales_Order_Id__c"] == order["key"]

    # What the go-live import reads: three customers, three invoices still wholly open.
    assert sorted(c.name for page in ia_runtime.erp.customers() for c in page) == [
        "Acme Corp", "Umbrella Health", "Wayne Enterprises GmbH"]
    assert sorted((i.currency, i.open_minor) for page in ia_runtime.erp.open_invoices()
                  for i in page) == [("EUR", 3_000_000), ("USD", 3_000_000), ("USD", 12_000_000)]

    before = _counts(ia_stack)
    assert before == Counter({CUSTOMER: 3, ORDER: 3, INVOICE: 3})
    sync_once(ia_runtime)
    assert _counts(ia_stack) == before
    report = run_audit(ia_runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_payment_and_credit_reach_intacct_once(
    ia_stack: SandboxStack, ia_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = BookSeeder(ia_stack.salesforce).seed(demo_deals()[3])  # Umbrella, quarterly $30K
    sync_once(ia_runtime)
    with transaction(sessions) as s:
        billing_id = s.scalar(select(BillingInvoice.billing_id).where(
            BillingInvoice.opportunity_id == opp))
    assert billing_id
    client = stripe.StripeClient(ia_stack.stripe.api_key,
                                 base_addresses={"api": ia_stack.stripe.url})
    # $30,000 invoice - $5,000 credit = $25,000 paid; the invoice owes 0 after both.
    credit = ia_runtime.billing.credit_invoice(billing_id, amount_minor=500_000,
                                               reason="late onboarding",
                                               key="closebot:credit:test-1")
    invoice = _by_ref(ia_stack, INVOICE, billing_id)
    adjustment = ia_runtime.erp.post_credit_memo(credit, invoice_id=invoice["key"])
    assert ia_runtime.erp.post_credit_memo(credit, invoice_id=invoice["key"]) == adjustment
    assert _by_ref(ia_stack, INVOICE, billing_id)["totalTxnAmountDue"] == "25000.00"
    client.v1.invoices.pay(billing_id, {"paid_out_of_band": True})
    poll_events(ia_runtime)
    sync_once(ia_runtime)
    invoice = _by_ref(ia_stack, INVOICE, billing_id)
    assert (invoice["totalTxnAmountDue"], invoice["totalTxnAmountPaid"], invoice["state"]) == (
        "0.00", "30000.00", "paid")
    cash = [p for p in _intacct(ia_stack).records(PAYMENT) if p["paymentMethod"] != "Credit"]
    assert [p["totalTxnAmount"] for p in cash] == ["25000.00"]
    (memo,) = _intacct(ia_stack).records(ADJUSTMENT)
    assert (memo["totalTxnAmount"], memo["totalTxnAmountDue"]) == ("-5000.00", "0.00")
    sync_once(ia_runtime)
    assert len(_intacct(ia_stack).records(PAYMENT)) == 2  # the cash and the credit's apply
    report = run_audit(ia_runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_refused_credentials_become_an_exception_not_a_crash(
    ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = make_settings(ia_stack, db_url, intacct_client_secret="not-the-secret",
                             max_attempts=1)
    runtime = build_runtime(settings, sessions)
    opp = BookSeeder(ia_stack.salesforce).seed(demo_deals()[0])
    sync_once(runtime)
    assert _status(sessions, opp) == "exception"
    reason, detail = _exception(sessions, opp)
    assert "Sage Intacct refused closebot's OAuth client" in reason
    assert "INTACCT_CLIENT_SECRET" in reason and "not-the-secret" not in reason + detail
    assert _intacct(ia_stack).records(CUSTOMER) == []
    assert len(ia_stack.stripe.objects("subscription")) == 1


def test_an_expired_token_is_renewed_and_nothing_is_lost(
    ia_stack: SandboxStack, ia_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    seeder = BookSeeder(ia_stack.salesforce)
    first = seeder.seed(demo_deals()[0])
    sync_once(ia_runtime)
    issued = _intacct(ia_stack).tokens.issued
    _intacct(ia_stack).tokens.expire_all()
    second = seeder.seed(demo_deals()[3])
    sync_once(ia_runtime)
    assert {_status(sessions, first), _status(sessions, second)} == {"synced"}
    assert _intacct(ia_stack).tokens.issued == issued + 1  # refreshed once, not per call
    assert len(_intacct(ia_stack).records(INVOICE)) == 2


def test_a_missing_gl_account_is_named_and_nothing_is_half_posted(
    ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = make_settings(ia_stack, db_url, intacct_deferred_revenue_account="2999",
                             max_attempts=1)
    runtime = build_runtime(settings, sessions)
    opp = BookSeeder(ia_stack.salesforce).seed(demo_deals()[0])
    sync_once(runtime)
    assert _status(sessions, opp) == "exception"
    reason, _ = _exception(sessions, opp)
    assert "GL account 2999" in reason and "INTACCT_DEFERRED_REVENUE_ACCOUNT" in reason
    assert _intacct(ia_stack).records(INVOICE) == []
    # Fixed, the retry completes the deal from where it stopped: one order, one invoice.
    fixed = build_runtime(make_settings(ia_stack, db_url), sessions)
    with transaction(sessions) as s:
        queue.arm(s, opportunity_id=opp, version=1, step="post")
    sync_once(fixed)
    assert _status(sessions, opp) == "synced"
    assert Counter(len(_intacct(ia_stack).records(k)) for k in (ORDER, INVOICE)) == Counter({1: 2})


@pytest.mark.parametrize("method", ["upsert_sales_order", "post_invoice"])
def test_a_worker_killed_after_an_intacct_write_creates_nothing_twice(
    method: str, ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    deals = [d for d in demo_deals() if d.cadence and d.account != "Initech"]
    ids = [BookSeeder(ia_stack.salesforce).seed(d) for d in deals]
    settings = make_settings(ia_stack, db_url, lease_s=1)
    sync_and_die_after(settings, "erp", method)
    runtime = build_runtime(settings, sessions)
    sync_once(runtime)
    sync_once(runtime)
    assert {_status(sessions, opp) for opp in ids} == {"synced"}
    ia = _intacct(ia_stack)
    assert len(ia.records(ORDER)) == len(ids)
    assert len(ia.records(INVOICE)) == len(ia_stack.stripe.objects("invoice"))
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_over_the_concurrency_limit_is_a_retry_later_not_a_failure(
    ia_stack: SandboxStack, ia_runtime: Runtime
) -> None:
    gate = _intacct(ia_stack).gate
    ia_runtime.erp.upsert_customer(Customer(crm_account_id="001A", name="A"), currency="USD")
    for _ in range(gate.limit):
        assert gate.enter()  # every slot taken, as other integrations' requests would
    try:
        with pytest.raises(TransientError) as refused:
            ia_runtime.erp.upsert_customer(Customer(crm_account_id="001B", name="B"),
                                           currency="USD")
    finally:
        for _ in range(gate.limit):
            gate.leave()
    assert (refused.value.retry_after, refused.value.reason) == (
        1.0, "Sage Intacct is over its request limit")
    ia_runtime.erp.upsert_customer(Customer(crm_account_id="001B", name="B"), currency="USD")
    assert sorted(c["id"] for c in _intacct(ia_stack).records(CUSTOMER)) == ["001A", "001B"]


def test_a_currency_the_company_does_not_keep_is_named_and_nothing_is_posted(
    ia_stack: SandboxStack, ia_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    # The emulated company keeps USD, GBP, CAD, EUR, AUD and JPY; this deal is in CHF.
    opp = BookSeeder(ia_stack.salesforce).seed(replace(demo_deals()[0], currency="CHF"))
    sync_once(ia_runtime)
    reason, _ = _exception(sessions, opp)
    assert "Sage Intacct refused the currency: Currency CHF is not set up" in reason
    assert "Company > Setup > Currencies" in reason
    assert _counts(ia_stack) == Counter()
