"""Changes in Salesforce after a deal was billed that closebot must stop, not book: a currency
switch and a deal reopened. Each is one exception, alerted once in the alerts channel in words,
with nothing billed or posted in the wrong currency; and an amendment awaiting approval still
shows the subscription billed before it.

The deal: Globex - Platform, $24,000 a year (one $24,000 annual invoice, Dr AR / Cr Deferred
Revenue 24,000 in the ledger). Whatever is changed afterwards, the books must still read:
Stripe one USD subscription and one USD 24,000.00 invoice, the ledger AR 24,000 and deferred
revenue 24,000, nothing in EUR anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, SyncException
from sync.ledger import Ledger
from sync.ops import alerts
from sync.ops.audit import run_audit
from sync.ops.report import trace
from tests.handlers.conftest import Harness, pipeline_settings, start

K = 100_000  # $1,000.00 in cents
SPEC = DealSpec("Globex - Platform", "Globex", "rep@sales.example", "USD", "Annual", "Net 30",
                12, [LineSpec("Platform Subscription", 1, Decimal("24000"), "Recurring")])


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
         ) -> Iterator[tuple[Harness, SandboxStack, dict]]:
    with SandboxStack(slack=False) as stack:
        runtime = build_runtime(pipeline_settings(recorder, db_url, stack), sessions)
        seeder = BookSeeder(stack.salesforce)
        opp = seeder.seed(SPEC)
        sync_once(runtime)
        for harness in start(pipeline_settings(recorder, db_url, stack), sessions, recorder,
                             runtime):
            yield harness, stack, {"opp": opp, "runtime": runtime, "seeder": seeder}


def _sweep(harness: Harness) -> list[str]:
    """Post the open exceptions' alerts; the alerts channel's texts so far."""
    alerts.sweep(harness.surface.deps)
    harness.surface.flush()
    return [m.get("text") or "" for m in harness.recorder.messages("C0ALERTS")]


def _open(sessions: sessionmaker[Session], opp: str) -> list[tuple[str, str]]:
    with transaction(sessions) as s:
        return [(e.kind, e.reason) for e in s.scalars(select(SyncException).where(
            SyncException.opportunity_id == opp, SyncException.status == "open"))]


def _status(sessions: sessionmaker[Session], opp: str) -> str:
    with transaction(sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None
        return deal.status


def _books_unchanged(stack: SandboxStack, sessions: sessionmaker[Session]) -> None:
    """One USD subscription, one USD 24,000.00 invoice; AR 24,000 and deferred 24,000."""
    assert [s["currency"] for s in stack.stripe.objects("subscription")] == ["usd"]
    assert [(i["currency"], i["total"]) for i in stack.stripe.objects("invoice")] == [
        ("usd", 24 * K)]
    ledger = Ledger(sessions)
    assert ledger.trial_balance("EUR") == {} or not any(ledger.trial_balance("EUR").values())
    usd = ledger.trial_balance("USD")
    assert (usd.get("1100", 0), -usd.get("2100", 0)) == (24 * K, 24 * K)


def _switch_to_eur(stack: SandboxStack, opp: str) -> None:
    """What a rep does in Salesforce: remove the line, change the currency, add it back (an
    opportunity's currency cannot change while it has products)."""
    sf = stack.salesforce
    (line,) = [r for r in sf.records("OpportunityLineItem") if r["OpportunityId"] == opp]
    with sf.store.transaction():
        sf.store.delete(sf.schema.require("OpportunityLineItem"), line["Id"])
    sf.update("Opportunity", opp, {"CurrencyIsoCode": "EUR"})
    (usd_entry,) = [e for e in sf.records("PricebookEntry") if e["Id"] == line["PricebookEntryId"]]
    entry = sf.seed("PricebookEntry", {
        "Pricebook2Id": usd_entry["Pricebook2Id"], "Product2Id": line["Product2Id"],
        "UnitPrice": Decimal("24000"), "CurrencyIsoCode": "EUR", "IsActive": True})
    sf.seed("OpportunityLineItem", {
        "OpportunityId": opp, "Product2Id": line["Product2Id"], "PricebookEntryId": entry,
        "Quantity": 1, "UnitPrice": Decimal("24000"), "Billing_Type__c": "Recurring"})


def test_a_currency_switch_after_billing_is_an_exception_not_a_bill(live) -> None:
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["opp"]
    _switch_to_eur(stack, opp)
    sync_once(rt)
    sync_once(rt)  # a second pass, after closebot's own write-back: still one exception

    (exc,) = _open(harness.sessions, opp)
    assert exc[0] == "currency_change"
    assert "changed Currency from USD to EUR after it was billed" in exc[1]
    assert "USD 24,000.00" in exc[1]
    assert "set Currency back to USD" in exc[1] and "book the deal again in EUR" in exc[1]
    assert _status(harness.sessions, opp) == "exception"
    _books_unchanged(stack, harness.sessions)
    record = stack.salesforce.get("Opportunity", opp)
    assert record["Sync_Status__c"] == "Failed"
    texts = _sweep(harness)
    assert len([t for t in texts if "from USD to EUR" in t]) == 1, texts
    assert len([t for t in _sweep(harness) if "from USD to EUR" in t]) == 1  # not re-posted
    with transaction(harness.sessions) as s:
        hops = trace(s, opp)
    assert hops[0]["state"] == "exception"
    assert any(h["hop"] == "Stripe subscription" and h["state"] == "ok" for h in hops)

    # Keeping USD: the currency is set back; the exception resolves and the deal is synced.
    sf = stack.salesforce
    (line,) = [r for r in sf.records("OpportunityLineItem") if r["OpportunityId"] == opp]
    with sf.store.transaction():
        sf.store.delete(sf.schema.require("OpportunityLineItem"), line["Id"])
    sf.update("Opportunity", opp, {"CurrencyIsoCode": "USD"})
    (usd_entry,) = [e for e in sf.records("PricebookEntry")
                    if e["Product2Id"] == line["Product2Id"] and e["CurrencyIsoCode"] == "USD"]
    sf.seed("OpportunityLineItem", {
        "OpportunityId": opp, "Product2Id": line["Product2Id"],
        "PricebookEntryId": usd_entry["Id"], "Quantity": 1, "UnitPrice": Decimal("24000"),
        "Billing_Type__c": "Recurring"})
    sync_once(rt)
    assert _open(harness.sessions, opp) == []
    assert _status(harness.sessions, opp) == "synced"
    _books_unchanged(stack, harness.sessions)
    _sweep(harness)
    assert run_audit(rt).ok, run_audit(rt).problems()


def test_a_deal_reopened_after_billing_is_alerted_once(live) -> None:
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["opp"]
    (invoice,) = stack.stripe.objects("invoice")
    stack.salesforce.update("Opportunity", opp, {"StageName": "Negotiation/Review"})
    sync_once(rt)
    sync_once(rt)

    (exc,) = _open(harness.sessions, opp)
    assert exc[0] == "reopened"
    reason = exc[1]
    assert "moved back to Negotiation/Review" in reason
    (sub,) = stack.stripe.objects("subscription")
    assert sub["id"] in reason and invoice["number"] in reason and "USD 24,000.00" in reason
    assert "posted to the ledger as" in reason and "ledger sales order" in reason
    texts = _sweep(harness)
    assert len([t for t in texts if "moved back to Negotiation/Review" in t]) == 1, texts
    sync_once(rt)
    assert len([t for t in _sweep(harness) if "moved back" in t]) == 1
    _books_unchanged(stack, harness.sessions)
    # The audit sees the reopened deal and names it, excused by the open exception.
    report = run_audit(rt)
    assert report.ok, report.problems()
    assert [v.kind for v in report.variances if v.opportunity_id == opp] == ["reopened_deal"]

    stack.salesforce.update("Opportunity", opp, {"StageName": "Closed Won"})
    sync_once(rt)
    assert _open(harness.sessions, opp) == []
    assert _status(harness.sessions, opp) == "synced"
    _sweep(harness)
    assert run_audit(rt).ok


def test_a_reopened_deal_without_an_exception_fails_the_audit(live) -> None:
    """The audit reads every deal closebot billed, won or not: one reopened behind closebot's
    back (its exception dismissed) is a variance."""
    harness, stack, ctx = live
    rt, opp = ctx["runtime"], ctx["opp"]
    stack.salesforce.update("Opportunity", opp, {"StageName": "Negotiation/Review"})
    sync_once(rt)
    with transaction(harness.sessions) as s:
        for exc in s.scalars(select(SyncException).where(SyncException.opportunity_id == opp)):
            exc.status = "dismissed"
    report = run_audit(rt, require_alerts=False)
    assert [v.kind for v in report.failing] == ["reopened_deal"]


def test_an_amendment_awaiting_approval_still_traces_its_subscription(
    recorder: SlackRecorder, db_url: str, sessions: sessionmaker[Session]
) -> None:
    with SandboxStack(slack=False) as stack:
        rt = build_runtime(pipeline_settings(recorder, db_url, stack), sessions)
        opp = BookSeeder(stack.salesforce).seed(
            next(d for d in demo_deals() if d.account == "Umbrella Health"))
        sync_once(rt)
        (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
                   if r["OpportunityId"] == opp]
        stack.salesforce.update("OpportunityLineItem", line, {"Quantity": 75})  # +50%: approval
        sync_once(rt)
        (sub,) = stack.stripe.objects("subscription")
        assert stack.salesforce.get("Opportunity", opp)["Stripe_Subscription_Id__c"] == sub["id"]
        with transaction(sessions) as s:
            hops = {h["hop"]: h for h in trace(s, opp)}
        assert hops["Salesforce opportunity"]["state"] == "awaiting_approval"
        assert (hops["Stripe subscription"]["id"], hops["Stripe subscription"]["state"]) == (
            sub["id"], "ok")
        report = run_audit(rt, require_alerts=False)
        assert report.ok, report.problems()


def test_a_deal_reopened_while_awaiting_approval_is_held_until_won_again(live) -> None:
    """Held for an approval, then reopened: an exception says billing is held; won again, it
    waits for its approval as before, and nothing was billed ($0 in Stripe for Hooli)."""
    harness, stack, ctx = live
    rt = ctx["runtime"]
    spec = DealSpec("Hooli - Platform", "Hooli", "rep@sales.example", "USD", "Annual",
                    "Net 30", 12, [LineSpec("Platform Subscription", 1, Decimal("12000"),
                                            "Recurring")], extra={"Requires_Approval__c": True})
    opp = ctx["seeder"].seed(spec)
    sync_once(rt)
    assert _status(harness.sessions, opp) == "awaiting_approval"
    stack.salesforce.update("Opportunity", opp, {"StageName": "Negotiation/Review"})
    sync_once(rt)
    sync_once(rt)

    (exc,) = _open(harness.sessions, opp)
    assert exc[0] == "reopened" and "before it was billed" in exc[1]
    assert "holds its billing until Stage is Closed Won again" in exc[1]
    texts = _sweep(harness)
    assert len([t for t in texts if "Hooli - Platform was moved back" in t]) == 1, texts

    stack.salesforce.update("Opportunity", opp, {"StageName": "Closed Won"})
    sync_once(rt)
    assert _open(harness.sessions, opp) == []
    assert _status(harness.sessions, opp) == "awaiting_approval"
    assert not [c for c in stack.stripe.objects("customer") if c["name"] == "Hooli"]
    assert len(stack.stripe.objects("subscription")) == 1  # Globex's alone
    _sweep(harness)
    assert run_audit(rt).ok, run_audit(rt).problems()
