"""Legal entities on NetSuite OneWorld: each entity's deals book to its own subsidiary
(customer, sales order and invoice), through one connection, and the audit ties out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings

# The emulator's OneWorld account: subsidiary 1 Parent Company (USD), 2 UK Ltd (GBP and USD).
ENTITIES = json.dumps([
    {"name": "Acme Inc", "countries": ["US"], "netsuite_subsidiary": "1",
     "functional_currency": "USD"},
    {"name": "Acme Ltd", "countries": ["GB"], "netsuite_subsidiary": "2",
     "functional_currency": "GBP"},
])


@pytest.fixture
def one_world() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        assert stack.netsuite is not None
        stack.netsuite.store.one_world = True
        yield stack


def test_each_entity_books_to_its_subsidiary(one_world: SandboxStack, db_url: str,
                                             sessions: sessionmaker[Session]) -> None:
    start = datetime.now(UTC).date()
    seeder = BookSeeder(one_world.salesforce)
    # By hand: Acme Inc invoices USD 120,000.00 (20,000.00 fee + 100,000.00 for a 10-month
    # term billed annually) in subsidiary 1; Acme Ltd GBP 60,000.00 (a year) in subsidiary 2.
    seeder.seed(DealSpec("Initrode - Platform", "Initrode", "dana@sales.example", "USD",
                         "Annual", "Net 30", 10,
                         [LineSpec("Implementation Services", 1, Decimal("20000"), "One-Time"),
                          LineSpec("Platform Subscription", 1, Decimal("100000"), "Recurring")],
                         start, account_extra={"BillingCountry": "US"}))
    seeder.seed(DealSpec("Hooli UK - Platform", "Hooli UK", "sam@sales.example", "GBP",
                         "Annual", "Net 30", 12,
                         [LineSpec("Platform Subscription", 1, Decimal("60000"), "Recurring")],
                         start, account_extra={"BillingCountry": "GB"}))
    runtime = build_runtime(make_settings(one_world, db_url, netsuite_subsidiary="1",
                                          entities=ENTITIES), sessions)
    sync_once(runtime)
    ns = one_world.netsuite
    assert ns is not None
    assert sorted(c["subsidiary"]["id"] for c in ns.records("customer")) == ["1", "2"]
    for kind in ("salesOrder", "invoice"):
        booked = sorted((r["subsidiary"]["id"], r["currency"]["refName"] if isinstance(
            r["currency"], dict) else r["currency"], Decimal(str(r["total"])))
            for r in ns.records(kind))
        assert [(sub, total) for sub, _c, total in booked] == [
            ("1", Decimal("120000")), ("2", Decimal("60000"))], kind
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()

    # A replay books nothing new in either subsidiary.
    counts = {k: len(ns.records(k)) for k in ("customer", "salesOrder", "invoice")}
    sync_once(runtime)
    assert {k: len(ns.records(k)) for k in counts} == counts
