"""`closebot doctor` against the emulators: all ✓ when healthy, and the exact ✗ line (what to fix,
and where) for each planted fault, through the real clients over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from sandbox.netsuite.schema import ACCOUNT
from sandbox.slack.recorder import DEFAULT_SCOPES
from sandbox.stack import SandboxStack
from storage.db import make_engine
from storage.migrate import upgrade

runner = CliRunner()
MIGRATIONS = Path(__file__).resolve().parents[2] / "storage" / "migrations" / "versions"
APPROVER = "U0ALICE"
SIGNING = "doctor-signing-secret"


@dataclass
class Doctor:
    stack: SandboxStack
    env: dict[str, str]
    monkeypatch: pytest.MonkeyPatch

    def run(self, *args: str, **overrides: str) -> tuple[int, list[str], str]:
        for key, value in {**self.env, **overrides}.items():
            self.monkeypatch.setenv(key, value)
        result = runner.invoke(cli, ["doctor", *args])
        return result.exit_code, result.stdout.splitlines(), result.output

    def failing(self, **overrides: str) -> list[str]:
        code, lines, output = self.run(**overrides)
        assert code == 1, output
        assert all(ln[:1] in "✓✗" for ln in lines), output
        return [ln for ln in lines if ln.startswith("✗")]


def _database(tmp_path: Path, revision: str = "head") -> str:
    url = f"sqlite:///{tmp_path / 'closebot.db'}"
    engine = make_engine(url)
    upgrade(engine, revision)
    engine.dispose()
    return url


def _stack_env(stack: SandboxStack, db: str) -> dict[str, str]:
    return {**stack.env(), "DATABASE_URL": db, "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_APPROVERS": APPROVER, "SLACK_APPROVER_GROUP": "", "ERP": "ledger"}


@pytest.fixture
def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Doctor]:
    monkeypatch.chdir(tmp_path)
    with SandboxStack() as stack:
        assert stack.slack is not None
        stack.slack.add_user(APPROVER, "alice@example.com", "Alice Ng")
        yield Doctor(stack, _stack_env(stack, _database(tmp_path)), monkeypatch)


def test_healthy_systems_are_all_ticked(doctor: Doctor) -> None:
    code, lines, output = doctor.run()
    assert code == 0, output
    assert lines and all(ln.startswith("✓ ") for ln in lines), output
    systems = {ln[2:].split(":")[0] for ln in lines}
    assert systems == {"database", "ledger", "Salesforce", "Stripe", "Slack"}
    for expected in (
        "✓ database: reachable; schema at the latest migration",
        "✓ Salesforce: Opportunity has the ",
        "✓ Salesforce: Account has the ",
        "✓ Salesforce: OpportunityLineItem has the ",
        "✓ Stripe: test-mode secret key, accepted by Stripe",
        "✓ Stripe: the key can read customers, subscriptions, invoices, credit notes and events",
        "✓ Slack: the bot token has every scope manifest.yml asks for",
        "✓ Slack: the bot is in #finance-alerts (SLACK_ALERTS_CHANNEL)",
        "✓ Slack: the bot is in #finance-approvals (SLACK_APPROVALS_CHANNEL)",
        "✓ Slack: the bot is in #finance-digest (SLACK_DIGEST_CHANNEL)",
        "✓ Slack: approvers: 1 person in SLACK_APPROVERS, found in the workspace",
    ):
        assert any(ln.startswith(expected) for ln in lines), (expected, output)
    secrets = [doctor.env[k] for k in ("SALESFORCE_ACCESS_TOKEN", "STRIPE_API_KEY",
                                       "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")]
    assert not [s for s in secrets if s in output]


def test_json(doctor: Doctor) -> None:
    code, _, output = doctor.run("--json", STRIPE_API_KEY="sk_test_wrong")
    assert code == 1
    body = json.loads(output)
    assert body["ok"] is False
    assert {"system", "ok", "what", "fix"} <= body["checks"][0].keys()
    failed = [c for c in body["checks"] if not c["ok"]]
    assert [c["system"] for c in failed] == ["Stripe"] and failed[0]["fix"]
    assert "sk_test_wrong" not in output


def test_a_salesforce_field_removed(doctor: Doctor) -> None:
    doctor.stack.salesforce.remove_field("Opportunity", "Sync_Status__c")
    assert doctor.failing() == [
        "✗ Salesforce: Opportunity field Sync Status (Sync_Status__c) is missing — create it: "
        "Setup → Object Manager → Opportunity → Fields & Relationships → New (README, "
        "“Pointing closebot at the real systems”, gives its type)"]


def test_a_salesforce_field_closebot_cannot_write(doctor: Doctor) -> None:
    doctor.stack.salesforce.make_read_only("Account", "Stripe_Customer_Id__c")
    assert doctor.failing() == [
        "✗ Salesforce: closebot's user can't edit Account field Stripe Customer Id "
        "(Stripe_Customer_Id__c) — Setup → Object Manager → Account → Fields & Relationships → "
        "Stripe Customer Id → Set Field-Level Security: Visible, not Read-Only, for its profile"]


def test_a_slack_scope_missing(doctor: Doctor) -> None:
    assert doctor.stack.slack is not None
    doctor.stack.slack.set_scopes(DEFAULT_SCOPES - {"users:read.email"})
    assert doctor.failing() == [
        "✗ Slack: the bot token lacks users:read.email — add it under api.slack.com/apps → "
        "closebot → OAuth & Permissions → Bot Token Scopes (or paste manifest.yml again), then "
        "reinstall the app"]


def test_the_bot_not_in_the_alerts_channel(doctor: Doctor) -> None:
    assert doctor.stack.slack is not None
    doctor.stack.slack.remove_from_channel("finance-alerts")
    assert doctor.failing() == [
        "✗ Slack: the bot is not in #finance-alerts (SLACK_ALERTS_CHANNEL) — invite it: "
        "/invite @closebot in #finance-alerts"]


def test_a_channel_that_does_not_exist(doctor: Doctor) -> None:
    assert doctor.failing(SLACK_DIGEST_CHANNEL="#fin-digest") == [
        "✗ Slack: no channel #fin-digest (SLACK_DIGEST_CHANNEL) the bot can see — create it "
        "and /invite @closebot, or fix SLACK_DIGEST_CHANNEL"]


def test_a_wrong_stripe_key(doctor: Doctor) -> None:
    assert doctor.failing(STRIPE_API_KEY="sk_test_wrong") == [
        "✗ Stripe: Stripe refused STRIPE_API_KEY (an invalid API key) — copy a secret key "
        "(sk_…) or a restricted key (rk_…) from the Stripe Dashboard → Developers → API keys"]


def test_a_restricted_key_without_credit_notes(doctor: Doctor) -> None:
    key = "rk_test_closebot_doctor"
    readable = ("customer", "subscription", "invoice", "event", "balance")
    doctor.stack.stripe.add_restricted_key(key, {r: "write" for r in readable})
    assert doctor.failing(STRIPE_API_KEY=key) == [
        "✗ Stripe: the key may not read credit notes — give the restricted key Read or Write on "
        "Credit notes: Stripe Dashboard → Developers → API keys → the key → Edit"]


def test_no_approvers(doctor: Doctor) -> None:
    assert doctor.failing(SLACK_APPROVERS="") == [
        "✗ Slack: no approvers: nobody can approve held deals or credits — set SLACK_APPROVERS "
        "to Slack member IDs (profile → ⋮ → Copy member ID) or SLACK_APPROVER_GROUP to a user "
        "group ID"]


def test_an_approver_who_is_not_in_the_workspace(doctor: Doctor) -> None:
    assert doctor.failing(SLACK_APPROVERS=f"{APPROVER},U0GONE") == [
        "✗ Slack: approver U0GONE (SLACK_APPROVERS) is not in this Slack workspace — use a "
        "member ID from their profile (⋮ → Copy member ID)"]


def test_a_database_behind_its_migrations(doctor: Doctor, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    old = _database(tmp_path / "old", "0002")
    failing = doctor.failing(DATABASE_URL=old)
    head = max(f.name[:4] for f in MIGRATIONS.glob("0*.py"))  # the newest migration
    assert failing == [f"✗ database: schema is at migration 0002, closebot needs {head} — run "
                       "closebot db upgrade"]
    engine = make_engine(old)
    with engine.connect() as conn:  # the doctor looked, it did not migrate
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    engine.dispose()


def test_no_database_yet(doctor: Doctor, tmp_path: Path) -> None:
    missing = tmp_path / "none" / "closebot.db"
    assert doctor.failing(DATABASE_URL=f"sqlite:///{missing}") == [
        f"✗ database: no closebot database at {missing} — run closebot db upgrade, or point "
        "DATABASE_URL at closebot's database"]
    assert not missing.exists()


@pytest.fixture
def netsuite_doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Doctor]:
    monkeypatch.chdir(tmp_path)
    with SandboxStack(erp="netsuite") as stack:
        assert stack.slack is not None
        stack.slack.add_user(APPROVER, "alice@example.com", "Alice Ng")
        env = {**_stack_env(stack, _database(tmp_path)), "ERP": "netsuite"}
        yield Doctor(stack, env, monkeypatch)


def test_netsuite_healthy_and_with_a_wrong_token(netsuite_doctor: Doctor) -> None:
    code, lines, output = netsuite_doctor.run()
    assert code == 0, output
    for expected in ("✓ NetSuite: connected to account 1234567_SB1 with token-based auth",
                     "✓ NetSuite: the role can read customers and transactions (SuiteQL)",
                     "✓ NetSuite: closebot's service items exist and its role can write them "
                     "(Subscription, One-time charges, Credit)"):
        assert any(ln.startswith(expected) for ln in lines), (expected, output)
    assert not any(ln.startswith("✓ ledger") for ln in lines)
    assert netsuite_doctor.failing(NETSUITE_TOKEN_SECRET="0" * 64) == [
        "✗ NetSuite: NetSuite refused closebot's token-based credentials — check "
        "NETSUITE_ACCOUNT_ID and the NETSUITE_CONSUMER_*/NETSUITE_TOKEN_* values (Setup → "
        "Users/Roles → Access Tokens), and that the token's role has REST Web Services and "
        "SuiteAnalytics Workbook"]


def test_netsuite_setup_records_are_checked(netsuite_doctor: Doctor) -> None:
    assert netsuite_doctor.failing(NETSUITE_SUBSIDIARY="1", NETSUITE_CLASS="7") == [
        "✗ NetSuite: NetSuite has no class with internal ID 7 — set NETSUITE_CLASS to the "
        "internal ID of an existing class"]
    code, lines, output = netsuite_doctor.run(NETSUITE_SUBSIDIARY="2", NETSUITE_CLASS="1",
                                              NETSUITE_TAX_CODE="1")
    assert code == 0, output
    assert ("✓ NetSuite: records book to subsidiary UK Ltd, class SaaS, tax code -Not Taxable-"
            in lines), output



def test_netsuite_bad_debt_account_is_checked(netsuite_doctor: Doctor) -> None:
    """Write-offs book through the "Bad debt" item to 6200 Bad Debt Expense: a chart without
    that number is caught before the first write-off stops on it."""
    code, lines, output = netsuite_doctor.run()
    assert code == 0, output
    assert ("✓ NetSuite: write-offs book to account 6200 Bad Debt Expense (the \"Bad debt\" "
            "item)" in lines), output
    emulator = netsuite_doctor.stack.netsuite
    assert emulator is not None
    store = emulator.store
    store.get(ACCOUNT, store.account_id("6200"))["acctNumber"] = "6290"  # renumbered there
    assert netsuite_doctor.failing() == [
        "✗ NetSuite: NetSuite has no account number 6200 (Bad Debt Expense), which write-offs "
        "book to — add it under Lists → Accounting → Accounts, numbered 6200"]


def test_an_invalid_setting_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERP", "sap")
    result = runner.invoke(cli, ["doctor"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "ERP is not valid: Value error, ERP must be 'ledger', 'netsuite' or 'intacct' (closebot "
        "config check lists the settings)"]


def test_an_expired_salesforce_session(doctor: Doctor) -> None:
    assert doctor.failing(SALESFORCE_ACCESS_TOKEN="00D000000000001!expired") == [
        "✗ Salesforce: can't read Salesforce as closebot's user: Salesforce ended closebot's "
        "session (expired or revoked) and closebot cannot log in again on its own: set up the JWT "
        "bearer or refresh-token flow (docs/salesforce-auth.md), or set a new "
        "SALESFORCE_ACCESS_TOKEN — closebot config check shows which login is configured "
        "(docs/salesforce-auth.md)"]
