"""Hostile input at the entry points: each gets a clear rejection or an exception record,
never a crash, and nothing hostile reaches billing."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.settings import Settings
from app.stripe_webhooks import handle_stripe_webhook
from app.wiring import engine_config
from sandbox.stripe.events import sign
from storage.db import make_engine, make_session_factory, transaction
from storage.schema import create_schema
from storage.tables import Deal, SyncException, WorkItem
from sync.engine.intake import accept
from sync.engine.runtime import Runtime
from sync.ports import DealRecord

SECRET = "whsec_fuzz"
_DIR = tempfile.TemporaryDirectory(prefix="closebot-fuzz-")
_ENGINE = make_engine(f"sqlite:///{Path(_DIR.name) / 'fuzz.db'}")
create_schema(_ENGINE)
SESSIONS = make_session_factory(_ENGINE)


class Unreachable:
    """Billing and CRM that must never be called: intake and rejected webhooks stay local."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected external call {name}")


RT = Runtime(config=engine_config(Settings(database_url="sqlite://")), sessions=SESSIONS,
             crm=Unreachable(), billing=Unreachable(), erp=Unreachable(), worker_id="fuzz")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                   max_size=4),
    max_leaves=20,
)
hostile_text = st.text(max_size=300) | st.sampled_from(
    ["'; DROP TABLE deals; --", "\\' OR 1=1", "🤑" * 200, "\x00", "1e309", "-0", "NaN",
     "9" * 40, "2026-02-30", "<script>", "Net 99999", "Annual\u202e"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                      st.binary(max_size=300),
                      st.builds(lambda t, o: json.dumps({"id": "evt_x", "type": t,
                                                         "data": {"object": o}}).encode(),
                                st.text(max_size=30), json_values)),
       signed=st.booleans())
def test_stripe_webhook_bodies_are_rejected_or_recorded(body: bytes, signed: bool) -> None:
    signature = sign(body.decode("utf-8", "replace"), SECRET, int(time.time())) if signed else (
        "t=1,v1=00")
    status, text = handle_stripe_webhook(body, signature, secret=SECRET, rt=RT)
    assert status in (200, 400)
    if not signed:
        assert status == 400
    assert text


deal_fields = st.fixed_dictionaries({
    "Name": hostile_text, "AccountId": hostile_text | st.none(),
    "Amount": hostile_text | st.integers() | st.none(),
    "CurrencyIsoCode": hostile_text | st.sampled_from(["USD", "usd", "XXX", ""]),
    "Contract_Start_Date__c": hostile_text | st.sampled_from(["2026-01-01"]),
    "Contract_End_Date__c": hostile_text | st.sampled_from(["2026-12-31", "2025-01-01"]),
    "Billing_Cadence__c": hostile_text | st.sampled_from(["Monthly", "Annual"]),
    "Payment_Terms__c": hostile_text | st.sampled_from(["Net 30"]),
    "Product_Line__c": hostile_text,
})
line = st.fixed_dictionaries({
    "Id": hostile_text, "Product2.Name": hostile_text,
    "Quantity": hostile_text | st.integers(-5, 10**12),
    "UnitPrice": hostile_text | st.integers(-10**6, 10**15),
    "TotalPrice": hostile_text | st.integers(), "Billing_Type__c": hostile_text,
    "Discount": hostile_text | st.integers(-200, 200) | st.none(),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=deal_fields, lines=st.lists(line, max_size=3), n=st.integers(0, 10**9))
def test_hostile_salesforce_records_become_exceptions_not_crashes(
    fields: dict[str, Any], lines: list[dict[str, Any]], n: int
) -> None:
    opp = f"006F{n:011d}"
    record = DealRecord(opportunity_id=opp, modstamp=datetime.now(UTC), fields=fields,
                        lines=lines)
    with transaction(SESSIONS) as session:
        outcome = accept(session, RT, record)
    assert outcome in {"invalid", "accepted", "awaiting_approval", "unchanged"}
    with transaction(SESSIONS) as session:
        deal = session.get(Deal, opp)
        assert deal is not None
        if outcome == "invalid":
            assert deal.status == "exception"
            assert session.scalar(select(SyncException.reason).where(
                SyncException.opportunity_id == opp, SyncException.status == "open"))
            assert not session.scalar(select(WorkItem.id).where(
                WorkItem.opportunity_id == opp, WorkItem.step == "bill"))
