"""The money audit catches each wrong outcome of issue 9's "Why", planted through the emulators
(by driving the booking, or, where the booking now gets it right, straight into Stripe's state,
Salesforce or the ledger: `tests/integration/planted.py`), with the amounts worked out by hand
first (cents in the code):

1. Annual upsell: a 12-month annual deal, $20,000 fee + $100,000 subscription, raised to $110,000
   on day 75, Stripe planted to take the new price without billing the prorated difference
   D = share(11,000,000) - share(10,000,000) of the P - 75 days left of P: the contract as
   amended is worth $120,000 + D (the change order holds D), Stripe bills $120,000. Variance:
   contract value, D short. Monthly variant (10 months of $10,000 + $20,000 fee, raised on day
   75, in month 3): Stripe $50,000 billed + 7 x $11,000 = $127,000, the change order 7 x $1,000
   plus month 3's prorated $1,000: contract value short by that prorated part.
2. Decrease, Umbrella 50 → 48 seats, quarterly, on day 0, the ERP's change order planted to
   fail: Stripe bills $30,000 + 3 x $28,800 and credits $1,200 on the first invoice; the ledger
   posts only the $30,000 invoice (and the credit), and its schedule recognizes $120,000 - $1,200:
   deferred revenue $30,000 - $1,200 - $118,800 = a $90,000 debit, per obligation and on the
   account.
3. Credit at once: a 12-month annual $120,000 subscription, $10,000 credited on day 10, its memo
   planted as Dr Credits & Allowances $10,000 / Cr AR, with $0 earned by then: $10,000 taken
   from unearned revenue.
4. Void not reversed: the $120,000 invoice voided in Stripe with no event reaching closebot; the
   ledger still invoices and holds $120,000 receivable, Salesforce shows Void and $0
   outstanding, and nothing is billed against the $120,000 booked.
5. Tax: a $100,000 invoice with $8,875 tax (8.875%, Stripe's NY rate on the subscription), booked
   right (Cr Sales Tax Payable $8,875); the tax then planted into deferred revenue (Dr Sales Tax
   Payable / Cr Deferred Revenue $8,875): the ledger credits $108,875 to deferred revenue, $8,875
   of which belongs to no obligation.
6. Term: the 10-month Acme deal billed annually, its subscription planted to bill a whole year:
   Stripe's period runs to start + 12 months, two months past the contract's end; e.g. from
   2026-11-30 the end is 2027-09-29 and 61 of the period's 365 days come after it:
   $100,000 x 61 / 365 = $16,712.33 billed past the term.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import stripe
from typer.testing import CliRunner

import sandbox.stripe.billing as emulated_billing
from app.cli import cli
from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec, demo_deals
from sandbox.stack import SandboxStack
from storage.timeutil import utcnow
from sync.dates import add_months
from sync.engine.billing_events import poll_events
from sync.engine.runtime import Runtime
from sync.ops.audit import AuditReport, run_audit
from sync.ops.audit_billing import prorate
from tests.integration import planted
from tests.integration.books import current_period, prorated
from tests.integration.conftest import make_settings

K = 100_000  # $1,000.00 in cents


def found(report: AuditReport, kind: str) -> list[tuple[int | None, bool]]:
    """(difference, excused) of each variance of one kind."""
    return [(v.difference_minor, v.excused_by is not None) for v in report.variances
            if v.kind == kind]


def kinds(report: AuditReport) -> set[str]:
    return {v.kind for v in report.failing}


def deal(name: str, cadence: str, months: int, *lines: LineSpec) -> DealSpec:
    return DealSpec(name, name.split(" - ")[0], "rep@sales.example", "USD", cadence, "Net 30",
                    months, list(lines))


FEE = LineSpec("Implementation Services", 1, Decimal("20000"), "One-Time")


def platform(amount: str) -> LineSpec:
    return LineSpec("Platform Subscription", 1, Decimal(amount), "Recurring")


def recurring_line(stack: SandboxStack, opp: str) -> str:
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp and r["Billing_Type__c"] == "Recurring"]
    return line


def stripe_client(stack: SandboxStack) -> stripe.StripeClient:
    return stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})


def test_clean_books_pass(stack: SandboxStack, seeder: BookSeeder, runtime: Runtime) -> None:
    seeder.seed(deal("Clean Co - Platform", "Quarterly", 12, FEE, platform("120000")))
    sync_once(runtime)
    stack.stripe.advance(days=100)  # a renewal, billed and posted
    poll_events(runtime)
    sync_once(runtime)
    stack.stripe.reset_calls()
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()
    usd = report.totals["USD"]
    assert (usd["booked"], usd["billed"] + usd["scheduled"], usd["erp_orders"]) == (140 * K,) * 3
    assert usd["stripe_open"] == usd["erp_receivable"] == 80 * K  # $20,000 fee + 2 x $30,000
    # Stripe is read in list pages, never one invoice at a time.
    assert stack.stripe.calls == {f"GET /v1/{kind}": 1 for kind in (
        "products", "customers", "subscriptions", "invoices", "credit_notes", "payouts")}


def follow_stripe_clock(stack: SandboxStack, runtime: Runtime) -> None:
    """closebot's day moves with Stripe's, so an amendment takes effect on Stripe's day."""
    runtime.now = lambda: max(utcnow(), datetime.fromtimestamp(stack.stripe.now, UTC))


def _share(price: int, start: date, on: date, months: int) -> int:
    """Stripe's prorated share of `price` for what is left of the period holding `on`."""
    _, left, days = current_period(start, on, months)
    return prorated(price, left, days)


def test_an_annual_upsell_never_billed(stack: SandboxStack, seeder: BookSeeder,
                                       runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    planted.amendments_billed_later(monkeypatch)
    follow_stripe_clock(stack, runtime)
    opp = seeder.seed(deal("Upsell Co - Platform", "Annual", 12, FEE, platform("100000")))
    start = date.fromtimestamp(stack.stripe.now)
    sync_once(runtime)
    assert run_audit(runtime, require_alerts=False).ok
    stack.stripe.advance(days=75)
    on = start + timedelta(days=75)
    upsell = _share(110 * K, start, on, 12) - _share(100 * K, start, on, 12)
    stack.salesforce.update("OpportunityLineItem", recurring_line(stack, opp),
                            {"UnitPrice": Decimal("110000")})
    sync_once(runtime)
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "contract_value") == [(upsell, False)]
    assert kinds(report) == {"contract_value"}
    assert stack.salesforce.get("Opportunity", opp)["Sync_Status__c"] == "Synced"


def test_a_deal_marked_synced_on_an_older_version(stack: SandboxStack, seeder: BookSeeder,
                                                  runtime: Runtime,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    planted.amendments_billed_later(monkeypatch)  # no invoice of version 2 either
    opp = seeder.seed(next(d for d in demo_deals() if d.account == "Umbrella Health"))
    sync_once(runtime)
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp]
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 54})  # +8%: amended
    sync_once(runtime)
    (sub,) = stack.stripe.objects("subscription")
    with stack.stripe.state.lock:  # planted: Stripe still carries version 1
        stack.stripe.state.get("subscription", sub["id"])["metadata"]["contract_version"] = "1"
    report = run_audit(runtime, require_alerts=False)
    (stale,) = [v for v in report.failing if v.kind == "stale_version"]
    assert "marked synced, but Stripe still bills contract version 1 of 2" in stale.reason


def test_a_monthly_upsell_billed_short(stack: SandboxStack, seeder: BookSeeder,
                                       runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    planted.amendments_billed_later(monkeypatch)
    follow_stripe_clock(stack, runtime)
    opp = seeder.seed(deal("Monthly Co - Platform", "Monthly", 10, FEE, platform("100000")))
    start = date.fromtimestamp(stack.stripe.now)
    sync_once(runtime)
    stack.stripe.advance(days=75)
    on = start + timedelta(days=75)
    short = _share(11 * K, start, on, 1) - _share(10 * K, start, on, 1)
    poll_events(runtime)
    sync_once(runtime)
    stack.salesforce.update("OpportunityLineItem", recurring_line(stack, opp),
                            {"UnitPrice": Decimal("110000")})
    sync_once(runtime)
    report = run_audit(runtime, require_alerts=False)
    (value,) = [v for v in report.failing if v.kind == "contract_value"]
    assert value.difference_minor == short
    assert "USD 50,000.00 billed, USD 77,000.00 still to bill" in value.reason
    assert found(report, "erp_order_value") == []


def test_a_decrease_that_stops_the_erp(stack: SandboxStack, seeder: BookSeeder,
                                       runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    planted.change_orders_refused(monkeypatch)
    opp = seeder.seed(next(d for d in demo_deals() if d.account == "Umbrella Health"))
    sync_once(runtime)
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp]
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 48})
    sync_once(runtime)
    stack.stripe.advance(days=366)  # three renewals at 48 seats, none posted
    poll_events(runtime)
    sync_once(runtime)
    runtime.erp.ledger.recognize_revenue(through=date.today() + timedelta(days=800))
    report = run_audit(runtime, require_alerts=False)
    assert sorted(found(report, "deferred_revenue_debit")) == [(-90 * K, False)] * 2
    assert found(report, "contract_value") == []  # Stripe bills the amended contract
    # The ledger is behind Stripe by three invoices, known from the open exception.
    assert found(report, "invoice_not_posted") == [(28_800_00, True)] * 3
    assert not report.ok


def test_a_credit_booked_to_revenue_at_once(stack: SandboxStack, seeder: BookSeeder,
                                            runtime: Runtime, sessions: Any) -> None:
    seeder.seed(deal("Credit Co - Platform", "Annual", 12, platform("120000")))
    sync_once(runtime)
    stack.stripe.advance(days=10)
    (invoice,) = stack.stripe.objects("invoice")
    # An approved credit's Stripe note, its ledger memo planted whole to contra revenue.
    note = runtime.billing.credit_invoice(invoice["id"], amount_minor=10 * K,
                                          reason="concession", key="closebot:credit:1")
    planted.credit_to_revenue(sessions, note)
    poll_events(runtime)
    sync_once(runtime)
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "credit_to_revenue_unearned") == [(10 * K, False)]
    assert kinds(report) == {"credit_to_revenue_unearned"}


def test_a_void_not_reversed_in_the_erp(stack: SandboxStack, seeder: BookSeeder,
                                        runtime: Runtime) -> None:
    opp = seeder.seed(deal("Void Co - Platform", "Annual", 12, platform("120000")))
    sync_once(runtime)
    (invoice,) = stack.stripe.objects("invoice")
    planted.void_the_erp_never_heard_of(stack, opp, invoice["id"])
    record = stack.salesforce.get("Opportunity", opp)
    assert (record["Invoice_Status__c"], Decimal(str(record["Outstanding_Balance__c"]))) == (
        "Void", 0)
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "invoiced_mismatch") == [(-120 * K, False)]
    assert found(report, "receivable_mismatch") == [(120 * K, False)]
    assert found(report, "crm_balance_mismatch") == [(-120 * K, False)]
    assert found(report, "contract_value") == [(120 * K, False)]
    assert len(found(report, "crm_status_mismatch")) == 1


def test_tax_parked_in_deferred_revenue(stack: SandboxStack, seeder: BookSeeder,
                                        runtime: Runtime, sessions: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    nyc = stripe_client(stack).v1.tax_rates.create(params={
        "display_name": "Sales tax", "percentage": 8.875, "inclusive": False,
        "jurisdiction": "US - NY", "country": "US", "state": "NY", "tax_type": "sales_tax"})
    plain = emulated_billing.resolve_tax_rates

    def every_subscription_taxed(st: Any, ids: list[str] | None, param: str) -> Any:
        if param == "default_tax_rates" and not ids:
            ids = [nyc.id]  # as if the subscription were created with the NY rate
        return plain(st, ids, param)

    monkeypatch.setattr(emulated_billing, "resolve_tax_rates", every_subscription_taxed)
    seeder.seed(deal("Tax Co - Platform", "Annual", 12, platform("100000")))
    sync_once(runtime)
    (invoice,) = stack.stripe.objects("invoice")
    assert (invoice["total"], invoice["total_taxes"][0]["amount"]) == (108_875_00, 8_875_00)
    assert run_audit(runtime, require_alerts=False).ok  # booked right: tax to tax payable
    planted.tax_in_deferred_revenue(sessions, invoice["id"], 8_875_00)
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "deferred_revenue_unallocated") == [(8_875_00, False)]
    assert kinds(report) == {"deferred_revenue_unallocated"}


def test_stripe_billing_past_the_contract_end(stack: SandboxStack, seeder: BookSeeder,
                                              runtime: Runtime) -> None:
    spec = demo_deals()[0]  # Acme: 10 months, billed annually
    opp = seeder.seed(spec)
    sync_once(runtime)
    start = datetime.combine(spec.start, time(), UTC)
    after_end = add_months(start, 10)  # the first day after the contract's end
    expected = prorate(100 * K, add_months(start, 12) - after_end, add_months(start, 12) - start)
    planted.billed_through(stack, add_months(start, 12))
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "billing_past_term") == [(expected, False)]
    assert kinds(report) == {"billing_past_term"}
    (variance,) = report.failing
    assert variance.opportunity_id == opp
    assert (after_end - timedelta(days=1)).date().isoformat() in variance.reason


def test_an_amendment_awaiting_approval_is_not_a_variance(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime
) -> None:
    opp = seeder.seed(next(d for d in demo_deals() if d.account == "Umbrella Health"))
    sync_once(runtime)
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp]
    stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 75})  # +50%: approval
    sync_once(runtime)
    assert stack.salesforce.get("Opportunity", opp)["Sync_Status__c"] == "Requires Review"
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()


@pytest.fixture
def ns_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as running:
        yield running


def test_a_void_not_reversed_in_netsuite(ns_stack: SandboxStack, db_url: str,
                                         sessions: Any) -> None:
    runtime = build_runtime(make_settings(ns_stack, db_url), sessions)
    opp = BookSeeder(ns_stack.salesforce).seed(deal("Void Co - Platform", "Annual", 12,
                                                    platform("120000")))
    sync_once(runtime)
    assert run_audit(runtime, require_alerts=False).ok
    (invoice,) = ns_stack.stripe.objects("invoice")
    planted.void_the_erp_never_heard_of(ns_stack, opp, invoice["id"])
    report = run_audit(runtime, require_alerts=False)
    assert found(report, "invoiced_mismatch") == [(-120 * K, False)]
    assert found(report, "receivable_mismatch") == [(120 * K, False)]
    assert report.not_checked and "NetSuite" in report.not_checked[0]


def test_the_cli_lists_each_variance_with_both_sides(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, db_url: str,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    opp = seeder.seed(deal("Void Co - Platform", "Annual", 12, platform("120000")))
    sync_once(runtime)
    (invoice,) = stack.stripe.objects("invoice")
    planted.void_the_erp_never_heard_of(stack, opp, invoice["id"])
    for key, value in stack.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", db_url)
    as_json = CliRunner().invoke(cli, ["audit", "--json", "--no-alerts"])
    assert as_json.exit_code == 1
    body = json.loads(as_json.output)
    (mismatch,) = [v for v in body["variances"] if v["kind"] == "invoiced_mismatch"]
    assert [(s["system"], s["amount"], s["currency"]) for s in mismatch["sides"]] == [
        ("Stripe", "0.00", "USD"), ("the ledger", "120000.00", "USD")]
    assert [s["record_id"] for s in mismatch["sides"]] == [invoice["id"]] * 2
    text = CliRunner().invoke(cli, ["audit", "--no-alerts"])
    assert text.exit_code == 1
    lines = [ln for ln in text.output.splitlines() if ln.startswith("  ✗ ")]
    assert len(lines) == len(body["variances"]) == 5
    assert any("voided it; the ERP did not reverse it" in ln for ln in lines)
    monkeypatch.setenv("AUDIT_TOLERANCE_MINOR", str(200 * K))  # accepts every money difference
    tolerant = CliRunner().invoke(cli, ["audit", "--no-alerts"])
    assert "tolerance              20000000 minor units" in tolerant.output
    (left,) = [ln for ln in tolerant.output.splitlines() if ln.startswith("  ✗ ")]
    assert "crm_status_mismatch" in left and tolerant.exit_code == 1
