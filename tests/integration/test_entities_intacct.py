"""Legal entities on a multi-entity Sage Intacct company: each entity's deals are created in
its own entity (the `X-IA-API-Param-Entity` header), through one connection; an entity the
company does not have is an exception naming it, and nothing of the deal is half-created."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.intacct import objects as o
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import SyncException
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings


def _entities(uk: str) -> str:
    return json.dumps([
        {"name": "Acme Inc", "countries": ["US"], "intacct_entity": "US-E",
         "functional_currency": "USD"},
        {"name": "Acme Ltd", "countries": ["GB"], "intacct_entity": uk,
         "functional_currency": "GBP"},
    ])


@pytest.fixture
def ia_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="intacct", slack=False) as stack:
        start = datetime.now(UTC).date()
        seeder = BookSeeder(stack.salesforce)
        # By hand: Acme Inc invoices USD 120,000.00 (20,000.00 fee + 100,000.00 for the
        # 10-month term, billed annually); Acme Ltd invoices GBP 60,000.00 for its year.
        seeder.seed(DealSpec(
            "Initrode - Platform", "Initrode", "dana@sales.example", "USD", "Annual", "Net 30",
            10, [LineSpec("Implementation Services", 1, Decimal("20000"), "One-Time"),
                 LineSpec("Platform Subscription", 1, Decimal("100000"), "Recurring")], start,
            account_extra={"BillingCountry": "US"}))
        seeder.seed(DealSpec(
            "Hooli UK - Platform", "Hooli UK", "sam@sales.example", "GBP", "Annual", "Net 30",
            12, [LineSpec("Platform Subscription", 1, Decimal("60000"), "Recurring")], start,
            account_extra={"BillingCountry": "GB"}))
        yield stack


def _owners(stack: SandboxStack, obj: str) -> list[tuple[str | None, str]]:
    assert stack.intacct is not None
    with stack.intacct.store.lock:
        rows = list(stack.intacct.store.rows[obj].values())
    return sorted(((r.get("entity") or {}).get("id"), str(r.get("currency"))) for r in rows)


def test_each_entitys_records_are_created_in_its_entity(
        ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> None:
    runtime = build_runtime(make_settings(ia_stack, db_url, entities=_entities("UK-E")),
                            sessions)
    sync_once(runtime)
    customers = [e for e, _c in _owners(ia_stack, o.CUSTOMER)]
    assert customers == ["UK-E", "US-E"]
    invoices = _owners(ia_stack, o.INVOICE)
    assert [e for e, _c in invoices] == ["UK-E", "US-E"]
    assert ("GBP" in invoices[0][1]) and ("USD" in invoices[1][1])
    report = run_audit(runtime, require_alerts=False)
    assert report.ok, report.problems()
    before = {obj: len(_owners(ia_stack, obj)) for obj in (o.CUSTOMER, o.INVOICE)}
    sync_once(runtime)  # a replay creates nothing in either entity
    assert {obj: len(_owners(ia_stack, obj)) for obj in before} == before


def test_an_entity_the_company_lacks_is_an_exception_naming_it(
        ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> None:
    runtime = build_runtime(make_settings(ia_stack, db_url, max_attempts=1,
                                          entities=_entities("EU-E")), sessions)
    sync_once(runtime)
    with transaction(sessions) as session:
        reasons = list(session.scalars(select(SyncException.reason)))
    assert len(reasons) == 1 and "EU-E does not exist" in reasons[0], reasons
    # Acme Inc's deal went through; nothing of Acme Ltd's was created anywhere in Intacct.
    assert [e for e, _c in _owners(ia_stack, o.CUSTOMER)] == ["US-E"]
