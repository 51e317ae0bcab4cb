"""`closebot dry-run` against the emulators: what a sync would create, post and write back, and
proof that it changes nothing anywhere (every system snapshotted before and after)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from app.cli import cli
from app.jobs import sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, LineSpec, demo_deals
from sandbox.stack import SandboxStack
from sync.engine.telemetry import METRICS
from tests.integration import snapshots
from tests.integration.conftest import make_settings

runner = CliRunner()


@dataclass
class World:
    stack: SandboxStack
    db_url: str
    ids: dict[str, str]

    def run(self, *args: str, **env: str) -> tuple[int, str]:
        result = self._invoke(*args, **env)
        return result.exit_code, result.output

    def plan(self, opportunity: str) -> dict:
        # stdout alone: a warning logged on the way (to stderr) is not part of the JSON.
        result = self._invoke("--opportunity", opportunity, "--json")
        (deal,) = json.loads(result.stdout)["deals"]
        return {"code": result.exit_code, **deal}

    def _invoke(self, *args: str, **env: str) -> Result:
        values = {**self.stack.env(), "DATABASE_URL": self.db_url, **env}
        result = runner.invoke(cli, ["dry-run", *args], env=values)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result


def _records(deal: dict, system: str, phase: str = "now") -> dict[str, dict]:
    return {f"{r['action']} {r['kind']}": r for r in deal["records"]
            if r["system"] == system and r["phase"] == phase}


@pytest.fixture(params=["ledger", "netsuite"])
def world(request: pytest.FixtureRequest, db_url: str,
          sessions: sessionmaker[Session]) -> Iterator[World]:
    """Acme synced for real; then an add-on deal for Acme's account, Globex (fails
    validation) and Initech (needs approval) waiting in Salesforce."""
    with SandboxStack(slack=False, erp=request.param) as stack:
        seeder = BookSeeder(stack.salesforce)
        demo = {d.account: d for d in demo_deals()}
        acme = seeder.seed(demo["Acme Corp"])
        sync_once(build_runtime(make_settings(stack, db_url), sessions))
        account = stack.salesforce.get("Opportunity", acme)["AccountId"]
        addon = seeder.seed(DealSpec(
            "Acme Corp - Analytics", "Acme Corp", "dana@acme-sales.example", "USD", "Monthly",
            "Net 30", 12, [LineSpec("Analytics Add-on", 1, Decimal("12000"), "Recurring")]))
        stack.salesforce.update("Opportunity", addon, {"AccountId": account})
        ids = {"acme": acme, "addon": addon, "account": account,
               "globex": seeder.seed(demo["Globex"]), "initech": seeder.seed(demo["Initech"])}
        yield World(stack, db_url, ids)


def test_a_dry_run_changes_nothing_in_any_system(world: World) -> None:
    before = snapshots.everything(world.stack, world.db_url)
    metrics = dict(METRICS.counters), dict(METRICS.histograms)
    code, text = world.run()
    assert code == 1, text  # Globex would fail validation
    assert "Dry run: nothing was changed" in text
    for name in ("Acme Corp - Analytics", "Globex - Renewal", "Initech - Expansion"):
        assert name in text
    assert world.run("--json")[0] == 1
    for key in ("acme", "addon", "globex", "initech"):
        world.run("--opportunity", world.ids[key])
    assert snapshots.everything(world.stack, world.db_url) == before
    assert (dict(METRICS.counters), dict(METRICS.histograms)) == metrics  # not work done


def test_each_record_per_system_with_amounts(world: World) -> None:
    deal = world.plan(world.ids["addon"])
    assert (deal["code"], deal["outcome"], deal["amount"]) == (0, "sync", "USD 12,000.00")
    stripe = _records(deal, "Stripe")
    # Acme's Stripe customer exists already: it is used, not created again.
    assert stripe["use existing customer"]["id"].startswith("cus_")
    assert "DRYRUN" not in stripe["use existing customer"]["id"]
    assert stripe["create subscription"]["amount"] == "USD 1,000.00"
    assert "Analytics Add-on: 1 \u00d7 USD 1,000.00 a month" in \
        stripe["create subscription"]["details"]
    assert stripe["create invoice"]["amount"] == "USD 1,000.00"
    erp = _records(deal, "NetSuite" if world.stack.netsuite else "Ledger")
    assert "use existing customer" in erp
    assert erp["create sales order"]["amount"] == "USD 12,000.00"
    assert erp["create invoice"]["amount"] == "USD 1,000.00"
    fields = _records(deal, "Salesforce")["update opportunity"]["fields"]
    assert fields["Sync Status"] == "Synced"
    assert fields["Outstanding Balance"] == "USD 1,000.00"
    assert fields["Stripe Subscription ID"] == stripe["create subscription"]["id"]
    code, text = world.run("--opportunity", "Acme Corp - Analytics")
    assert code == 0 and "+ create subscription" in text and "USD 12,000.00" in text


def test_a_deal_failing_validation_says_why_and_exits_non_zero(world: World) -> None:
    deal = world.plan(world.ids["globex"])
    assert deal["code"] == 1 and deal["verdict"] == "fails validation"
    assert any("Cadence" in problem for problem in deal["problems"])
    assert {r["system"] for r in deal["records"]} == {"Salesforce"}
    fields = _records(deal, "Salesforce")["update opportunity"]["fields"]
    assert fields["Sync Status"] == "Failed" and "Cadence" in fields["Sync Error"]
    code, text = world.run("--opportunity", world.ids["globex"])
    assert code == 1 and "fails validation" in text and "Fix in Salesforce" in text


def test_a_deal_needing_approval_says_so_and_what_approval_would_create(world: World) -> None:
    deal = world.plan(world.ids["initech"])
    assert (deal["code"], deal["verdict"]) == (0, "needs approval")
    assert deal["approval"] == ["Platform Seats: 35% off list (policy allows 20%)"]
    assert not _records(deal, "Stripe")  # nothing until someone approves
    assert _records(deal, "Salesforce")["update opportunity"]["fields"]["Sync Status"] == \
        "Requires Review"
    after = _records(deal, "Stripe", "after approval")
    assert after["create subscription"]["amount"] == "USD 1,300.00"
    code, text = world.run("--opportunity", world.ids["initech"])
    assert code == 0 and "needs approval" in text and "Once approved:" in text


def test_an_amendment_reads_the_live_subscription(world: World) -> None:
    (line,) = [ln for ln in world.stack.salesforce.records("OpportunityLineItem")
               if ln["OpportunityId"] == world.ids["acme"] and ln["UnitPrice"] == 100000]
    world.stack.salesforce.update("OpportunityLineItem", line["Id"], {"UnitPrice": 105000})
    subscription = world.stack.salesforce.get("Opportunity", world.ids["acme"])[
        "Stripe_Subscription_Id__c"]
    (sub,) = [s for s in world.stack.stripe.objects("subscription") if s["id"] == subscription]
    deal = world.plan(world.ids["acme"])
    assert deal["outcome"] == "sync"
    update = _records(deal, "Stripe")["update subscription"]
    assert update["id"] == subscription and update["amount"] == "USD 105,000.00"
    from datetime import UTC, datetime

    # From the day it is billed, the prorated difference invoiced at once.
    today = max(datetime.now(UTC), datetime.fromtimestamp(
        sub["items"]["data"][0]["current_period_start"], UTC)).date()
    assert any(d.startswith(f"new prices from {today}: a higher price's prorated difference")
               for d in update["details"])


def test_unknown_deals_and_missing_settings_are_one_line(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = world.run("--opportunity", "006000000000000AAA")
    assert code == 1 and "no closed-won opportunity" in text
    code, text = world.run("--opportunity", "Nobody Industries")
    assert code == 1 and text.strip() == (
        "closebot dry-run: No opportunity in Salesforce matches “Nobody Industries”.")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["dry-run"], env={"SALESFORCE_INSTANCE_URL": "",
                                                  "SALESFORCE_ACCESS_TOKEN": "",
                                                  "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "config check" in result.output


def test_a_first_dry_run_creates_no_database(world: World, tmp_path: Path) -> None:
    fresh = tmp_path / "never-started.db"
    code, text = world.run("--opportunity", world.ids["addon"],
                           DATABASE_URL=f"sqlite:///{fresh}")
    assert code == 0, text
    # Without closebot's links the add-on would make a new Stripe customer: nothing known yet.
    assert "+ create customer" in text
    assert not fresh.exists()
