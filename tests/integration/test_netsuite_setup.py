"""Where closebot's records book in NetSuite: the subsidiary of a OneWorld account, the
department, class and location, the income account and the tax code, all settings. A OneWorld
account refuses a customer without a subsidiary, and a currency the subsidiary does not allow;
each refusal is an exception in plain words naming the setting or the NetSuite page to fix."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.netsuite import NetSuiteEmulator
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import Deal, SyncException
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings

ACME, WAYNE = 0, 4  # demo deals: Acme (USD, $120,000), Wayne Enterprises GmbH (EUR, €30,000)


@pytest.fixture
def one_world() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        assert stack.netsuite is not None
        stack.netsuite.store.one_world = True
        yield stack


def _ns(stack: SandboxStack) -> NetSuiteEmulator:
    assert stack.netsuite is not None
    return stack.netsuite


def _outcome(sessions: sessionmaker[Session], opp: str) -> tuple[str, str | None]:
    with transaction(sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None
        reason = s.scalar(select(SyncException.reason).where(
            SyncException.opportunity_id == opp))
        return deal.status, reason


def test_a_customer_without_a_subsidiary_is_refused_in_plain_words(
    one_world: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    runtime = build_runtime(make_settings(one_world, db_url, max_attempts=1), sessions)
    opp = BookSeeder(one_world.salesforce).seed(demo_deals()[ACME])
    sync_once(runtime)
    status, reason = _outcome(sessions, opp)
    assert status == "exception"
    assert reason is not None and "OneWorld" in reason and "NETSUITE_SUBSIDIARY" in reason
    assert "Setup > Company > Subsidiaries" in reason
    assert _ns(one_world).records("customer") == []


def test_a_currency_the_subsidiary_does_not_allow_is_refused_in_plain_words(
    one_world: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    # Subsidiary 2, UK Ltd, allows GBP and USD: the EUR deal can't be booked there.
    runtime = build_runtime(make_settings(one_world, db_url, max_attempts=1,
                                          netsuite_subsidiary="2"), sessions)
    opp = BookSeeder(one_world.salesforce).seed(demo_deals()[WAYNE])
    sync_once(runtime)
    status, reason = _outcome(sessions, opp)
    assert status == "exception"
    assert reason is not None
    assert "NetSuite's subsidiary UK Ltd does not allow EUR" in reason
    assert "NETSUITE_SUBSIDIARY" in reason
    assert _ns(one_world).records("customer") == []


def test_a_subsidiary_that_does_not_exist_names_the_setting(
    one_world: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    runtime = build_runtime(make_settings(one_world, db_url, max_attempts=1,
                                          netsuite_subsidiary="99"), sessions)
    opp = BookSeeder(one_world.salesforce).seed(demo_deals()[ACME])
    sync_once(runtime)
    status, reason = _outcome(sessions, opp)
    assert status == "exception"
    assert reason is not None and "no subsidiary with internal ID 99" in reason
    assert "NETSUITE_SUBSIDIARY" in reason


def test_records_carry_the_configured_subsidiary_segments_account_and_tax_code(
    one_world: SandboxStack, db_url: str, sessions: sessionmaker[Session]
) -> None:
    # Seeded setup records: subsidiary 1 Parent Company (USD, allows EUR), department 1
    # Sales, class 1 SaaS, location 1 Headquarters, income account 1 (4000 Subscription
    # Revenue), tax code 1 (-Not Taxable-). By hand: Acme's $120,000 order and invoice and
    # Wayne's €30,000 ones all book to subsidiary 1 with those segments.
    settings = make_settings(one_world, db_url, netsuite_subsidiary="1",
                             netsuite_department="1", netsuite_class="1",
                             netsuite_location="1", netsuite_income_account="1",
                             netsuite_tax_code="1")
    runtime = build_runtime(settings, sessions)
    seeder = BookSeeder(one_world.salesforce)
    opps = [seeder.seed(demo_deals()[i]) for i in (ACME, WAYNE)]
    sync_once(runtime)
    assert [_outcome(sessions, opp) for opp in opps] == [("synced", None)] * 2
    ns = _ns(one_world)
    assert {c["subsidiary"]["id"] for c in ns.records("customer")} == {"1"}
    placed = {(name, "1") for name in ("subsidiary", "department", "class", "location")}
    for kind in ("salesOrder", "invoice"):
        records = ns.records(kind)
        assert len(records) == 2
        for record in records:
            assert {(n, record[n]["id"]) for n in ("subsidiary", "department", "class",
                                                    "location")} == placed
            assert {line["taxCode"]["refName"] for line in record["item"]["items"]} == {
                "-Not Taxable-"}
    totals = sorted(Decimal(str(i["total"])) for i in ns.records("invoice"))
    assert totals == [Decimal("30000"), Decimal("120000")]
    assert {i["incomeAccount"]["refName"] for i in ns.records("serviceSaleItem")} == {
        "4000 Subscription Revenue"}  # an account's name shows its number
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()
