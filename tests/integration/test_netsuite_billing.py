"""The sales order billed in NetSuite: each invoice is the order transformed, so the order shows
what is billed, and the invoice lines name the order lines they bill and carry their
revenue-recognition dates (the contract's service period)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.netsuite import NetSuiteEmulator
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.conftest import make_settings


@pytest.fixture
def ns_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="netsuite", slack=False) as stack:
        yield stack


@pytest.fixture
def ns_runtime(ns_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return build_runtime(make_settings(ns_stack, db_url), sessions)


def _ns(stack: SandboxStack) -> NetSuiteEmulator:
    assert stack.netsuite is not None
    return stack.netsuite


def _term(stack: SandboxStack, opp: str) -> tuple[str, str]:
    fields = stack.salesforce.get("Opportunity", opp)
    return str(fields["Contract_Start_Date__c"]), str(fields["Contract_End_Date__c"])


def _order(ns: NetSuiteEmulator, opp: str) -> dict[str, Any]:
    (order,) = [o for o in ns.records("salesOrder") if o["externalId"] == f"{opp}:v1"]
    return order


def _invoice_of(ns: NetSuiteEmulator, sessions: sessionmaker[Session], opp: str) -> Any:
    with transaction(sessions) as s:
        billing_id = s.scalar(select(BillingInvoice.billing_id).where(
            BillingInvoice.opportunity_id == opp))
    (invoice,) = [i for i in ns.records("invoice") if i["externalId"] == billing_id]
    return invoice


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def test_a_quarterly_deal_bills_a_quarter_of_its_order(
    ns_stack: SandboxStack, ns_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    # Umbrella: 50 seats at $2,400 a year, billed quarterly. By hand: the order is $120,000 on
    # one line (quantity 50); the first invoice bills $30,000 of it, a quarter, so the line
    # shows 12.5 seats billed and the order stays open for billing; the invoice is $30,000.
    opp = BookSeeder(ns_stack.salesforce).seed(demo_deals()[3])
    sync_once(ns_runtime)
    ns = _ns(ns_stack)
    order = _order(ns, opp)
    invoice = _invoice_of(ns, sessions, opp)
    assert invoice["createdFrom"]["id"] == order["id"]
    assert invoice["entity"]["id"] == order["entity"]["id"]
    assert Decimal(str(invoice["total"])) == Decimal("30000")
    assert Decimal(str(order["total"])) == Decimal("120000")
    (order_line,) = order["item"]["items"]
    assert Decimal(str(order_line["quantityBilled"])) == Decimal("12.5")
    assert order["status"]["refName"] == "Pending Billing/Partially Fulfilled"
    start, end = _term(ns_stack, opp)
    assert (_day(order_line["revRecStartDate"]), _day(order_line["revRecEndDate"])) == (start, end)
    (line,) = invoice["item"]["items"]
    assert line["orderLine"] == 1 and Decimal(str(line["amount"])) == Decimal("30000")
    assert (_day(line["revRecStartDate"]), _day(line["revRecEndDate"])) == (start, end)

    # A replay, and a retry of the post after a lost response, make no second invoice.
    sync_once(ns_runtime)
    with transaction(sessions) as s:
        mirror = s.scalar(select(BillingInvoice).where(BillingInvoice.opportunity_id == opp))
        assert mirror is not None
    again = ns_runtime.erp.post_invoice(ns_runtime.billing.invoice(mirror.billing_id),
                                        customer_id=order["entity"]["id"],
                                        sales_order_id=order["id"])
    assert again == invoice["id"]
    assert len(ns.records("invoice")) == 1
    order = _order(ns, opp)
    assert Decimal(str(order["item"]["items"][0]["quantityBilled"])) == Decimal("12.5")
    report = run_audit(ns_runtime, require_alerts=False)
    assert report.ok, report.problems()


def test_an_annual_deal_billed_up_front_shows_its_order_billed(
    ns_stack: SandboxStack, ns_runtime: Runtime, sessions: sessionmaker[Session]
) -> None:
    # Acme: $20,000 implementation (one-time) and $100,000 subscription, billed annually up
    # front. By hand: one $120,000 invoice bills both order lines in full, so each line shows
    # its whole quantity (1) billed and the order is Billed. The implementation recognizes on
    # the start date; the subscription over the contract term.
    opp = BookSeeder(ns_stack.salesforce).seed(demo_deals()[0])
    sync_once(ns_runtime)
    ns = _ns(ns_stack)
    order = _order(ns, opp)
    invoice = _invoice_of(ns, sessions, opp)
    assert Decimal(str(invoice["total"])) == Decimal("120000")
    assert order["status"] == {"id": "G", "refName": "Billed"}
    assert [Decimal(str(x["quantityBilled"])) for x in order["item"]["items"]] == [1, 1]
    start, end = _term(ns_stack, opp)
    assert sorted((x["orderLine"], Decimal(str(x["amount"])), _day(x["revRecStartDate"]),
                   _day(x["revRecEndDate"])) for x in invoice["item"]["items"]) == [
        (1, Decimal("20000"), start, start), (2, Decimal("100000"), start, end)]
