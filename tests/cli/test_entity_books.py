"""`closebot books entities` and `closebot config check` with two legal entities, run as a
person runs them against the sandbox.

By hand: Acme Inc sells Initrode the USD 120,000.00 deal (a 20,000.00 implementation,
delivered and recognized on day one, and 100,000.00 of subscription billed up front): Dr AR
120,000.00 / Cr Deferred Revenue 100,000.00 / Cr Services Revenue 20,000.00. Acme Ltd sells
Hooli UK GBP 60,000.00 a year, billed up front, nothing earned yet: Dr AR 60,000.00 / Cr Deferred
Revenue 60,000.00. Each entity's debits equal its credits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, lines, succeeds

ENTITIES = json.dumps([
    {"name": "Acme Inc", "countries": ["US"], "functional_currency": "USD"},
    {"name": "Acme Ltd", "billing_entity": ["UK"], "functional_currency": "GBP"},
])


def test_each_entitys_books_balance(tmp_path: Path) -> None:
    start = datetime.now(UTC).date()
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        seeder.seed(DealSpec(
            "Initrode - Platform", "Initrode", "dana@sales.example", "USD", "Annual", "Net 30",
            10, [LineSpec("Implementation Services", 1, Decimal("20000"), "One-Time"),
                 LineSpec("Platform Subscription", 1, Decimal("100000"), "Recurring")], start,
            account_extra={"BillingCountry": "US"}))
        seeder.seed(DealSpec(
            "Hooli UK - Platform", "Hooli UK", "sam@sales.example", "GBP", "Annual", "Net 30",
            12, [LineSpec("Platform Subscription", 1, Decimal("60000"), "Recurring")], start,
            extra={"Billing_Entity__c": "UK"}))
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}",
                        ENTITIES=ENTITIES)
        checked = succeeds("config", "check", env=env, cwd=tmp_path)
        assert "entities    : Acme Inc (USD), Acme Ltd (GBP)" in checked
        succeeds("sync", "--once", env=env, cwd=tmp_path)
        books = json.loads(succeeds("books", "entities", "--json", env=env, cwd=tmp_path))
        by = {(b["entity"], b["currency"]): b for b in books["entities"]}
        assert set(by) == {("Acme Inc", "USD"), ("Acme Ltd", "GBP")}
        us, uk = by["Acme Inc", "USD"], by["Acme Ltd", "GBP"]
        assert us["balanced"] and uk["balanced"]
        assert us["accounts"]["1100"] == 12_000_000 and us["accounts"]["2100"] == -10_000_000
        assert sorted(v for k, v in us["accounts"].items() if k not in ("1100", "2100")) == [
            -2_000_000]
        assert uk["accounts"] == {"1100": 6_000_000, "2100": -6_000_000}
        text = succeeds("books", "entities", env=env, cwd=tmp_path)
        assert "Acme Ltd, GBP" in text and "balanced" in text


def test_an_unusable_entity_list_stops_every_command_in_one_line(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}", STRIPE_API_KEY="sk_test_x",
                    SALESFORCE_INSTANCE_URL="http://127.0.0.1:9", SALESFORCE_ACCESS_TOKEN="x",
                    ENTITIES='[{"name": "Acme Ltd", "functional_currency": "POUNDS"}]')
    checked = closebot("config", "check", env=env, cwd=tmp_path)
    assert checked.returncode != 0
    assert ("entities    : INVALID: ENTITIES: entity 'Acme Ltd': functional_currency POUNDS "
            "is not an ISO 4217 currency") in checked.stdout
    synced = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert synced.returncode != 0
    (line,) = lines(synced.stderr or synced.stdout)
    assert line == ("closebot: a setting is invalid (ENTITIES: entity 'Acme Ltd': "
                    "functional_currency POUNDS is not an ISO 4217 currency); run `closebot "
                    "config check` to see what is missing")
    assert not (tmp_path / "e.db").exists()  # refused before anything was touched
