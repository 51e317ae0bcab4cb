"""A system that refuses closebot's credentials fails `sync --once` with one line naming it and
the setting to fix (never the secret); after the fix, the deal that failed meanwhile is retried
from the command line, audited like a click on Retry in Slack."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, lines

BAD_STRIPE_KEY = "sk_test_51RevokedKeyThatStripeNoLongerKnows0000"
BAD_SALESFORCE_TOKEN = "00Dxx0000001gPL!AQ4AQExpiredSessionTokenValue"


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(slack=False) as running:
        yield running


def _env(stack: SandboxStack, tmp_path: Path, **overrides: str) -> dict[str, str]:
    values = {**stack.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'closebot.db'}",
              "SLACK_APPROVERS": "UOPS0001", **overrides}
    return clean_env(**values)


def test_a_refused_salesforce_token_fails_the_pass_with_one_line(
    stack: SandboxStack, tmp_path: Path
) -> None:
    BookSeeder(stack.salesforce).seed(demo_deals()[0])
    env = _env(stack, tmp_path, SALESFORCE_ACCESS_TOKEN=BAD_SALESFORCE_TOKEN)
    result = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    refusal = [line for line in lines(result.stderr) if line.startswith("closebot:")]
    assert len(refusal) == 1, result.stderr
    assert "Salesforce refused" in refusal[0] and "SALESFORCE_ACCESS_TOKEN" in refusal[0]
    assert BAD_SALESFORCE_TOKEN not in result.stdout + result.stderr


def test_a_refused_stripe_key_fails_and_the_deals_are_retried_from_the_cli(
    stack: SandboxStack, tmp_path: Path
) -> None:
    seeder = BookSeeder(stack.salesforce)
    opps = [seeder.seed(demo_deals()[0]), seeder.seed(demo_deals()[3])]
    bad = _env(stack, tmp_path, STRIPE_API_KEY=BAD_STRIPE_KEY)
    result = closebot("sync", "--once", env=bad, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    refusal = [line for line in lines(result.stderr) if line.startswith("closebot:")]
    assert len(refusal) == 1, result.stderr
    assert "Stripe refused" in refusal[0] and "STRIPE_API_KEY" in refusal[0]
    assert "closebot exceptions" in refusal[0]  # the deals that failed meanwhile
    assert BAD_STRIPE_KEY not in result.stdout + result.stderr

    good = _env(stack, tmp_path)
    listed = closebot("exceptions", "list", "--json", env=good, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert sorted((e["opportunity_id"], e["kind"], e["system"]) for e in found) == sorted(
        (opp, "bill", "Stripe") for opp in opps)
    ids = [str(e["id"]) for e in found]

    anonymous = closebot("exceptions", "retry", *ids, env=good, cwd=tmp_path)
    assert anonymous.returncode == 2 and "--as" in anonymous.stderr

    retried = closebot("exceptions", "retry", *ids, "--as", "UOPS0001", env=good, cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert len([ln for ln in lines(retried.stdout) if "is now synced" in ln]) == 2
    with sqlite3.connect(tmp_path / "closebot.db") as db:
        assert db.execute("SELECT DISTINCT status FROM deals").fetchall() == [("synced",)]
        assert db.execute("SELECT DISTINCT status FROM exceptions").fetchall() == [
            ("resolved",)]
        actors = db.execute("SELECT actor FROM audit_log WHERE action = 'exception.retry'"
                            ).fetchall()
    assert actors == [("UOPS0001",), ("UOPS0001",)]
    assert len(stack.stripe.objects("subscription")) == 2
    assert closebot("exceptions", "list", "--json", env=good, cwd=tmp_path).stdout.strip() == "[]"


def test_a_fresh_database_skips_invoices_of_deals_it_never_saw(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """Stripe keeps the invoices another closebot database billed; this one skips them."""
    from sandbox.salesforce import SalesforceEmulator

    BookSeeder(stack.salesforce).seed(demo_deals()[0])
    first_db = f"sqlite:///{tmp_path / 'first.db'}"
    first = closebot("sync", "--once", env=_env(stack, tmp_path, DATABASE_URL=first_db),
                     cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (invoice,) = [i for i in stack.stripe.objects("invoice") if i.get("number")]
    with SalesforceEmulator() as other_org:
        env = _env(stack, tmp_path, SALESFORCE_INSTANCE_URL=other_org.url,
                   SALESFORCE_ACCESS_TOKEN=other_org.token,
                   SALESFORCE_CA_BUNDLE=str(other_org.ca_bundle), LOG_JSON="false")
        result = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "LookupError" not in result.stderr
    skipped = [line for line in lines(result.stderr) if invoice["id"] in line]
    assert len(skipped) == 1 and invoice["number"] in skipped[0]
    with sqlite3.connect(tmp_path / "closebot.db") as db:
        assert db.execute("SELECT count(*) FROM work_items").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM exceptions").fetchone() == (0,)
        assert db.execute("SELECT job, status FROM sync_runs WHERE status != 'ok'"
                          ).fetchall() == []


def test_a_refusal_inside_a_step_fails_the_pass_too(tmp_path: Path) -> None:
    """NetSuite is only called by the post step, so no job fails: the pass still does."""
    with SandboxStack(slack=False, erp="netsuite") as stack:
        BookSeeder(stack.salesforce).seed(demo_deals()[0])
        env = _env(stack, tmp_path, NETSUITE_TOKEN_SECRET="not-the-token-secret",
                   MAX_ATTEMPTS="1")
        result = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    refusal = [line for line in lines(result.stderr) if line.startswith("closebot:")]
    assert len(refusal) == 1, result.stderr
    assert "NetSuite refused" in refusal[0] and "NETSUITE_TOKEN_ID/SECRET" in refusal[0]
    assert "not-the-token-secret" not in result.stdout + result.stderr


def test_audit_with_a_refused_token_says_so_in_one_line(
    stack: SandboxStack, tmp_path: Path
) -> None:
    env = _env(stack, tmp_path, SALESFORCE_ACCESS_TOKEN=BAD_SALESFORCE_TOKEN)
    result = closebot("audit", "--no-alerts", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = lines(result.stderr)
    assert "Salesforce refused" in line and "SALESFORCE_ACCESS_TOKEN" in line
    assert BAD_SALESFORCE_TOKEN not in result.stdout + result.stderr
