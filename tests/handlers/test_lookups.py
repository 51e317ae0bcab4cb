"""Lookups as people type them, through signed Slack requests over the real pipeline: invoice
numbers in any case, the ERP's invoice numbers, 15-character and lower-cased Salesforce IDs,
and a deal that has no invoice because it is held or in exception."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.tables import BillingInvoice
from tests.handlers.conftest import Harness, slack_settings, start, wait_for
from tests.integration.conftest import make_settings

CONNECTION = ("salesforce_instance_url", "salesforce_access_token", "salesforce_api_version",
              "salesforce_ca_bundle", "stripe_api_key", "stripe_api_base")


@pytest.fixture
def live(recorder: SlackRecorder, db_url: str,
         sessions: sessionmaker[Session]) -> Iterator[tuple[Harness, dict[str, str]]]:
    with SandboxStack(slack=False) as stack:
        base = make_settings(stack, db_url)
        settings = slack_settings(recorder, db_url,
                                  **{k: getattr(base, k) for k in CONNECTION})
        runtime = build_runtime(settings, sessions)
        seeder = BookSeeder(stack.salesforce)
        ids = {d.account: seeder.seed(d) for d in demo_deals()}
        sync_once(runtime)
        for harness in start(settings, sessions, recorder, runtime):
            yield harness, ids


def _text(answer: dict[str, Any]) -> str:
    return answer["text"] + " ".join(str(b) for b in answer.get("blocks", []))


def _invoice(harness: Harness, opportunity_id: str) -> BillingInvoice:
    with transaction(harness.sessions) as s:
        row = s.scalar(select(BillingInvoice)
                       .where(BillingInvoice.opportunity_id == opportunity_id))
        s.expunge(row)
        return row


def test_invoice_status_finds_an_invoice_however_it_is_typed(live) -> None:
    harness, ids = live
    acme = ids["Acme Corp"]
    inv = _invoice(harness, acme)
    assert inv.number and inv.erp_invoice_id and inv.erp_invoice_id.startswith("INV-")
    for query in (inv.number.lower(), inv.erp_invoice_id, inv.erp_invoice_id.lower(),
                  acme[:15], acme.lower()):
        answer = harness.slack.command("/invoice-status", query).json()
        assert inv.number in _text(answer), query
        assert answer["text"].startswith("1 invoice for"), answer["text"]


def test_invoice_status_of_a_deal_without_invoices_says_why(live) -> None:
    harness, _ = live
    globex = harness.slack.command("/invoice-status", "Globex").json()
    assert "No invoice matches" not in globex["text"]
    body = _text(globex)
    assert "Globex - Renewal" in body and "exception" in body
    assert "Billing Cadence is empty" in body
    initech = _text(harness.slack.command("/invoice-status", "initech").json())
    assert "waits for approval" in initech and "35% off list" in initech
    nobody = harness.slack.command("/invoice-status", "Nobody Inc").json()
    assert "No invoice matches" in nobody["text"]


def test_deal_trace_by_15_character_and_lower_cased_ids(live) -> None:
    harness, ids = live
    acme = ids["Acme Corp"]
    for n, query in enumerate((acme[:15], acme.lower())):
        assert harness.slack.command("/deal-trace", query).status_code == 200
        reply = wait_for(lambda n=n: harness.recorder.responses()[n:])[0]["payload"]
        assert reply["text"] == "Chain of custody: Acme Corp - Platform 2026", query
        assert "USD 120,000.00" in _text(reply)
