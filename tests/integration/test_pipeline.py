"""The contract-to-cash pipeline end to end: simple-salesforce and stripe-python over HTTP to the
emulators, the embedded ledger in the test database."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.book import BookSeeder, DealSpec, LineSpec, demo_deals
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerSalesOrderLine
from storage.tables import Deal, SyncException, WorkItem
from sync.engine.runtime import Runtime
from sync.ledger import Ledger


def _demo(stack: SandboxStack, seeder: BookSeeder) -> dict[str, str]:
    return {deal.account: seeder.seed(deal) for deal in demo_deals()}


def _deal(sessions: sessionmaker[Session], opportunity_id: str) -> Deal:
    with transaction(sessions) as session:
        deal = session.get(Deal, opportunity_id)
        assert deal is not None
        return deal


def _stripe_counts(stack: SandboxStack) -> Counter[str]:
    return Counter({kind: len(stack.stripe.objects(kind))
                    for kind in ("customer", "subscription", "invoice")})


def test_demo_book_flows_through_every_system(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    ids = _demo(stack, seeder)
    sync_once(runtime)

    statuses = {name: _deal(sessions, opp).status for name, opp in ids.items()}
    assert statuses == {
        "Acme Corp": "synced",
        "Globex": "exception",
        "Initech": "awaiting_approval",
        "Umbrella Health": "synced",
        "Wayne Enterprises GmbH": "synced",
    }

    # Acme: $20K fee + $100K annual subscription on one first invoice; ledger order with 2 lines.
    acme = stack.salesforce.get("Opportunity", ids["Acme Corp"])
    assert acme["Sync_Status__c"] == "Synced"
    subscription = next(s for s in stack.stripe.objects("subscription")
                        if s["id"] == acme["Stripe_Subscription_Id__c"])
    assert subscription["metadata"]["sf_opportunity_id"] == ids["Acme Corp"]
    (invoice,) = [i for i in stack.stripe.objects("invoice")
                  if i["customer"] == acme["Stripe_Customer_Id__c"]]
    assert (invoice["total"], invoice["status"], invoice["currency"]) == (12_000_000, "open", "usd")
    assert acme["Invoice_Number__c"] == invoice["number"]
    assert Decimal(str(acme["Outstanding_Balance__c"])) == Decimal("120000")
    assert acme["ERP_Sales_Order_Id__c"].startswith("SO-")
    with transaction(sessions) as session:
        lines = session.scalars(select(LedgerSalesOrderLine)).all()
        assert sorted(ln.amount_minor for ln in lines if ln.amount_minor in
                      (2_000_000, 10_000_000)) == [2_000_000, 10_000_000]
    ledger = Ledger(sessions)
    # AR in the ledger equals what Stripe says is still owed.
    assert ledger.account_balance("1100", "USD") == sum(
        i["amount_remaining"] for i in stack.stripe.objects("invoice")
        if i["currency"] == "usd" and i["status"] == "open"
    )
    assert ledger.unbalanced_entries() == []

    # Globex fails validation: nothing downstream, the reason written back to Salesforce.
    globex = stack.salesforce.get("Opportunity", ids["Globex"])
    assert globex["Sync_Status__c"] == "Failed"
    assert "Billing Cadence is empty" in globex["Sync_Error__c"]
    assert not globex.get("Stripe_Customer_Id__c")

    # Initech (35% discount) waits for approval: nothing in Stripe for it.
    initech = stack.salesforce.get("Opportunity", ids["Initech"])
    assert initech["Sync_Status__c"] == "Requires Review"
    assert not any(c["name"] == "Initech" for c in stack.stripe.objects("customer"))

    # Umbrella: quarterly, 50 seats at $600 a quarter each.
    umbrella = stack.salesforce.get("Opportunity", ids["Umbrella Health"])
    sub = next(s for s in stack.stripe.objects("subscription")
               if s["id"] == umbrella["Stripe_Subscription_Id__c"])
    item = sub["items"]["data"][0]
    assert (item["quantity"], item["price"]["unit_amount"]) == (50, 60_000)
    assert item["price"]["recurring"]["interval_count"] == 3

    # Wayne: annual in EUR.
    wayne = stack.salesforce.get("Opportunity", ids["Wayne Enterprises GmbH"])
    sub = next(s for s in stack.stripe.objects("subscription")
               if s["id"] == wayne["Stripe_Subscription_Id__c"])
    assert sub["currency"] == "eur"
    assert ledger.account_balance("1100", "EUR") == 3_000_000


def test_running_again_creates_nothing_new(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    _demo(stack, seeder)
    sync_once(runtime)
    before = _stripe_counts(stack)
    ledger = Ledger(sessions)
    ar = ledger.trial_balance("USD")
    sync_once(runtime)
    sync_once(runtime)
    assert _stripe_counts(stack) == before
    assert ledger.trial_balance("USD") == ar
    assert ledger.duplicate_external_ids() == []


def test_fixed_deal_flows_on_by_itself(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    ids = _demo(stack, seeder)
    sync_once(runtime)
    assert _deal(sessions, ids["Globex"]).status == "exception"

    stack.salesforce.update("Opportunity", ids["Globex"], {"Billing_Cadence__c": "Monthly"})
    sync_once(runtime)

    assert _deal(sessions, ids["Globex"]).status == "synced"
    globex = stack.salesforce.get("Opportunity", ids["Globex"])
    assert globex["Sync_Status__c"] == "Synced" and not globex.get("Sync_Error__c")
    with transaction(sessions) as session:
        open_exc = session.scalar(select(func.count()).select_from(SyncException).where(
            SyncException.opportunity_id == ids["Globex"], SyncException.status == "open"))
    assert open_exc == 0


def test_two_deals_of_one_account_share_one_stripe_customer(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    seeder = BookSeeder(stack.salesforce)
    first = seeder.seed(demo_deals()[0])
    account = stack.salesforce.get("Opportunity", first)["AccountId"]
    second = DealSpec("Acme Corp - Add-on", "Acme Corp", "dana@acme-sales.example", "USD",
                      "Monthly", "Net 30", 12,
                      [LineSpec("Analytics Add-on", 1, Decimal("12000"), "Recurring")],
                      extra={"AccountId": account})
    second_id = seeder.seed(second)
    stack.salesforce.update("Opportunity", second_id, {"AccountId": account})
    sync_once(runtime)
    acme = [c for c in stack.stripe.objects("customer")
            if c["metadata"].get("sf_account_id") == account]
    assert len(acme) == 1
    assert len(stack.stripe.objects("subscription")) == 2


def test_pages_and_cursor_read_each_deal_once(
    stack: SandboxStack, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    stack.salesforce.page_size = 7
    seeder = BookSeeder(stack.salesforce)
    spec = demo_deals()[3]
    for n in range(20):
        spec.account = f"Paged {n}"
        spec.name = f"Paged deal {n}"
        seeder.seed(spec)
    counts = sync_once(runtime)
    assert counts["intake.accepted"] == 20 and counts["intake.pages"] == 3
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == 20
        assert session.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.status != "done")) == 0
    assert len(stack.stripe.objects("subscription")) == 20
    # Closebot's own write-backs bump SystemModstamp; re-reading them makes no new versions.
    again = sync_once(runtime)
    assert again["intake.accepted"] == 0


def test_contract_start_is_carried_to_the_ledger_schedule(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    opp = seeder.seed(demo_deals(today=date(2026, 11, 22))[0])
    sync_once(runtime)
    assert _deal(sessions, opp).status == "synced"
    ledger = Ledger(sessions)
    # Recognition through the end of the term: all of it.
    ledger.recognize_revenue(through=date(2027, 12, 31))
    assert ledger.account_balance("4000", "USD") == 10_000_000
    assert ledger.account_balance("4100", "USD") == 2_000_000


def test_opportunity_search_treats_hostile_names_as_text(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime
) -> None:
    for deal in demo_deals():
        seeder.seed(deal)
    crm = runtime.crm
    assert [r["Name"] for r in crm.find_opportunities("Acme")] == ["Acme Corp - Platform 2026"]
    for hostile in ("x' OR Name != '", "%", "_", "\\", "' ORDER BY Name LIMIT 1 --"):
        assert crm.find_opportunities(hostile) == []


def test_revenue_job_recognizes_what_is_due(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.jobs import run_job

    seeder.seed(demo_deals()[0])  # $20K fee on delivery (today) + $100K over ten months
    sync_once(runtime)
    assert run_job(runtime, "revenue")["recognized"] == 1  # the fee, delivered today
    runtime.now = lambda: datetime.now(UTC) + timedelta(days=400)
    assert run_job(runtime, "revenue")["recognized"] == 10
    assert run_job(runtime, "revenue")["recognized"] == 0  # nothing twice
    ledger = Ledger(sessions)
    assert ledger.account_balance("4100", "USD") == 2_000_000
    assert ledger.account_balance("4000", "USD") == 10_000_000
    assert ledger.account_balance("2100", "USD") == 0


def test_future_start_bills_the_fee_now_and_the_first_period_at_the_start(
    stack: SandboxStack, seeder: BookSeeder, runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    from datetime import UTC, datetime, timedelta

    from sync.engine.billing_events import poll_events
    from sync.ops.audit import run_audit

    start = datetime.now(UTC).date() + timedelta(days=45)
    opp = seeder.seed(DealSpec(
        "Hooli - Starts Next Quarter", "Hooli", "gavin@hooli-sales.example", "USD", "Monthly",
        "Net 30", 12, [LineSpec("Onboarding", 1, Decimal("500"), "One-Time"),
                       LineSpec("Platform Subscription", 1, Decimal("12000"), "Recurring")],
        start,
    ))
    sync_once(runtime)
    assert _deal(sessions, opp).status == "synced"
    (sub,) = stack.stripe.objects("subscription")
    assert sub["billing_cycle_anchor"] == int(datetime.combine(start, datetime.min.time(),
                                                               UTC).timestamp())
    # Nothing of the subscription is billed before the contract starts: the fee only.
    (first,) = stack.stripe.objects("invoice")
    assert (first["status"], first["total"]) == ("open", 50_000)
    ledger = Ledger(sessions)
    assert ledger.ar_open_by_invoice() == {first["id"]: 50_000}

    stack.stripe.advance(days=46)  # the contract has started: the first month is invoiced
    poll_events(runtime)
    sync_once(runtime)
    month = [i for i in stack.stripe.objects("invoice") if i["id"] != first["id"]]
    assert [(i["status"], i["total"]) for i in month] == [("open", 100_000)]
    assert ledger.ar_open_by_invoice() == {first["id"]: 50_000, month[0]["id"]: 100_000}
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()
