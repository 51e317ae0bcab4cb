"""The command line as a new user meets it: demo, trace, config check, db upgrade."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from sandbox.book import BookSeeder, demo_deals
from sandbox.salesforce.certs import self_signed
from sandbox.stack import SandboxStack

runner = CliRunner()


def test_demo_json_reports_every_deal() -> None:
    result = runner.invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    deals = {d["name"]: d for d in summary["deals"]}
    assert len(deals) == 5
    for deal in deals.values():
        assert {"opportunity_id", "name", "amount", "currency", "status", "obligations",
                "stripe", "erp", "exception"} <= deal.keys()
        assert deal["status"] in {"synced", "awaiting_approval", "exception", "pending"}
    acme = deals["Acme Corp - Platform 2026"]
    assert acme["status"] == "synced" and Decimal(acme["amount"]) == 120000
    assert sorted((Decimal(o["amount"]), o["recurring"]) for o in acme["obligations"]) == [
        (Decimal(20000), False), (Decimal(100000), True)]
    assert acme["stripe"]["subscription"].startswith("sub_")
    assert acme["erp"]["sales_order"].startswith("SO-")
    assert "Billing Cadence is empty" in deals["Globex - Renewal"]["exception"]
    assert deals["Initech - Expansion"]["status"] == "awaiting_approval"
    assert deals["Wayne Enterprises GmbH - EU"]["currency"] == "EUR"


def test_demo_on_netsuite() -> None:
    result = runner.invoke(cli, ["demo", "--json", "--erp", "netsuite"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["erp"] == "netsuite"
    statuses = sorted(d["status"] for d in summary["deals"])
    assert statuses == ["awaiting_approval", "exception", "synced", "synced", "synced"]
    acme = next(d for d in summary["deals"] if d["name"] == "Acme Corp - Platform 2026")
    assert acme["erp"]["sales_order"].isdigit() and acme["erp"]["invoices"]
    assert runner.invoke(cli, ["demo", "--erp", "sap"]).exit_code != 0


def test_demo_text_is_readable() -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Acme Corp - Platform 2026" in result.stdout
    assert "USD 120,000.00  status: SYNCED" in result.stdout
    assert "Platform Subscription: USD 100,000.00 (recurring, 1 invoice)" in result.stdout
    assert "Would post to Slack:" in result.stdout


def test_trace_shows_the_chain_of_custody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'trace.db'}"
    with SandboxStack(slack=False) as stack:
        opp = BookSeeder(stack.salesforce).seed(demo_deals()[0])
        for key, value in {**stack.env(), "DATABASE_URL": db}.items():
            monkeypatch.setenv(key, value)
        assert runner.invoke(cli, ["sync", "--once"]).exit_code == 0
        result = runner.invoke(cli, ["trace", opp])
    assert result.exit_code == 0, result.output
    assert "Stripe subscription: sub_" in result.stdout
    assert "ledger sales order: SO-" in result.stdout
    assert "MISSING" not in result.stdout
    unknown = runner.invoke(cli, ["trace", "006000000000000AAA"])
    assert unknown.exit_code == 1


def test_config_check_names_what_is_missing_and_hides_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_supersecretvalue")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret-value")
    for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(cli, ["config", "check"])
    assert result.exit_code == 1
    assert "salesforce  : MISSING" in result.stdout
    assert "stripe      : configured" in result.stdout
    assert "supersecret" not in result.stdout and "signing-secret" not in result.stdout


SALESFORCE_ENV = ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_USERNAME",
                  "SALESFORCE_PASSWORD", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET",
                  "SALESFORCE_REFRESH_TOKEN", "SALESFORCE_JWT_KEY_FILE", "SALESFORCE_LOGIN_URL")


def _salesforce_line(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in SALESFORCE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(cli, ["config", "check"])
    line = next(x for x in result.stdout.splitlines() if x.startswith("salesforce"))
    return result.exit_code, line


def test_config_check_names_the_salesforce_login_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    key, _ = self_signed().write(tmp_path)
    code, line = _salesforce_line(
        monkeypatch, SALESFORCE_CLIENT_ID="3MVG9consumer", SALESFORCE_USERNAME="int@acme.com",
        SALESFORCE_JWT_KEY_FILE=str(key))
    assert code == 0
    assert line == (f"salesforce  : configured (real, JWT bearer flow as int@acme.com, key file "
                    f"{key}, login https://login.salesforce.com)")

    code, line = _salesforce_line(
        monkeypatch, SALESFORCE_CLIENT_ID="3MVG9consumer", SALESFORCE_CLIENT_SECRET="cs-secret",
        SALESFORCE_REFRESH_TOKEN="5Aep861-refresh-secret", SALESFORCE_DOMAIN="test")
    assert code == 0
    assert line == ("salesforce  : configured (real, refresh-token flow, client secret set, "
                    "login https://test.salesforce.com)")
    assert "secret" not in line.replace("client secret set", "")

    code, line = _salesforce_line(
        monkeypatch, SALESFORCE_CLIENT_ID="3MVG9consumer",
        SALESFORCE_JWT_KEY_FILE=str(tmp_path / "absent.key"))
    assert code == 1
    assert line == ("salesforce  : JWT bearer flow MISSING: set SALESFORCE_USERNAME; "
                    f"SALESFORCE_JWT_KEY_FILE: no file at {tmp_path / 'absent.key'}")

    not_a_key = tmp_path / "server.crt"
    code, line = _salesforce_line(
        monkeypatch, SALESFORCE_CLIENT_ID="3MVG9consumer", SALESFORCE_USERNAME="int@acme.com",
        SALESFORCE_JWT_KEY_FILE=str(not_a_key))
    assert code == 1
    assert line == (f"salesforce  : JWT bearer flow MISSING: SALESFORCE_JWT_KEY_FILE ({not_a_key}) "
                    "does not hold an unencrypted RSA private key in PEM format (the key of the "
                    "certificate uploaded to the connected app)")

    code, line = _salesforce_line(monkeypatch, SALESFORCE_CLIENT_ID="3MVG9consumer")
    assert code == 1
    assert line == ("salesforce  : MISSING: with SALESFORCE_CLIENT_ID set "
                    "SALESFORCE_JWT_KEY_FILE and SALESFORCE_USERNAME (JWT bearer flow) or "
                    "SALESFORCE_REFRESH_TOKEN (refresh-token flow)")


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh.db").exists()
