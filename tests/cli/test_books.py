"""`closebot books` and `closebot sandbox advance`, run as a person runs them, against the
sandbox's emulators, on the $120K Acme deal (one-time implementation USD 20,000 and a platform
subscription USD 100,000 over 10 months, billed annually up front, starting today).

Worked by hand before any code:
- Signed and synced: the invoice is Dr Accounts Receivable 120,000 / Cr Deferred Revenue
  120,000; the implementation is delivered on day one, Dr Deferred 20,000 / Cr Services Revenue
  20,000. Trial balance: AR 120,000 debit; Deferred 100,000 and Services 20,000 credit; debits
  = credits = 120,000.
- The schedule: the subscription in 10 periods of 10,000 (each recognized at its period's end),
  the implementation in one of 20,000 (recognized); deferred 100,000.
- One month on (`sandbox advance --days 31`, then `sync --once`): period 1 is recognized, Dr
  Deferred 10,000 / Cr Subscription Revenue 10,000. Trial balance: AR 120,000 debit; Deferred
  90,000, Subscription 10,000, Services 20,000 credit; 120,000 each side.
- `books deal` lists the invoice entry (its Stripe invoice, INV-…) and the two recognition
  entries (the sales order SO-… and the line they recognize), three entries in all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, lines

K = 100_000  # USD 1,000.00 in cents


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[tuple[SandboxStack, dict[str, str], str]]:
    with SandboxStack(slack=False) as stack:
        opportunity = BookSeeder(stack.salesforce).seed(demo_deals()[0])
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'books.db'}")
        synced = closebot("sync", "--once", env=env, cwd=tmp_path)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        yield stack, env, opportunity


def _json(env: dict[str, str], cwd: Path, *args: str) -> dict:
    done = closebot(*args, "--json", env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _balances(env: dict[str, str], cwd: Path, *args: str) -> dict[str, tuple[int, int]]:
    book = _json(env, cwd, "books", "trial-balance", *args)
    [usd] = book["currencies"]
    assert usd["currency"] == "USD" and usd["balanced"]
    assert usd["debits_minor"] == usd["credits_minor"]
    return {a["name"]: (a["debit_minor"], a["credit_minor"]) for a in usd["accounts"]}


def test_the_acme_deal_month_by_month(
    acme: tuple[SandboxStack, dict[str, str], str], tmp_path: Path
) -> None:
    stack, env, opportunity = acme
    assert _balances(env, tmp_path) == {
        "Accounts Receivable": (120 * K, 0), "Deferred Revenue": (0, 100 * K),
        "Services Revenue": (0, 20 * K)}
    text = closebot("books", "trial-balance", env=env, cwd=tmp_path)
    assert "USD 120,000.00" in text.stdout and "balanced" in text.stdout

    schedule = _json(env, tmp_path, "books", "schedule", "acme")
    by_product = {o["description"]: o for o in schedule["obligations"]}
    subscription = by_product["Platform Subscription"]
    implementation = by_product["Implementation Services"]
    assert subscription["allocated_minor"] == 100 * K
    assert [p["amount_minor"] for p in subscription["periods"]] == [10 * K] * 10
    assert [p["amount_minor"] for p in implementation["periods"]] == [20 * K]
    assert implementation["recognized_minor"] == 20 * K
    assert (subscription["recognized_minor"], subscription["deferred_minor"]) == (0, 100 * K)

    advanced = closebot("sandbox", "advance", "--days", "31", env=env, cwd=tmp_path)
    assert advanced.returncode == 0, advanced.stdout + advanced.stderr
    assert stack.stripe.now >= int((date.today() + timedelta(days=31)).strftime("%s")) - 86_400
    synced = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "1 period recognized" in synced.stdout

    assert _balances(env, tmp_path) == {
        "Accounts Receivable": (120 * K, 0), "Deferred Revenue": (0, 90 * K),
        "Subscription Revenue": (0, 10 * K), "Services Revenue": (0, 20 * K)}
    # As of signing day, the month's recognition is not on the books yet.
    assert _balances(env, tmp_path, "--as-of", date.today().isoformat())[
        "Deferred Revenue"] == (0, 100 * K)
    schedule = _json(env, tmp_path, "books", "schedule", opportunity[:15])
    subscription = next(o for o in schedule["obligations"] if o["recognition"] == "ratable")
    assert (subscription["recognized_minor"], subscription["deferred_minor"]) == (10 * K, 90 * K)
    assert [p["state"] for p in subscription["periods"]][:2] == ["recognized", "scheduled"]

    [invoice] = stack.stripe.objects("invoice")
    entries = _json(env, tmp_path, "books", "deal", opportunity)["entries"]
    assert [(e["kind"], e["total_minor"]) for e in entries] == [
        ("invoice", 120 * K), ("revenue recognition", 20 * K), ("revenue recognition", 10 * K)]
    assert entries[0]["source"] == f"Stripe invoice {invoice['id']}"
    assert entries[0]["record"].startswith("INV-")
    assert [(leg["name"], leg["debit_minor"], leg["credit_minor"]) for leg in entries[2]["legs"]
            ] == [("Deferred Revenue", 10 * K, 0), ("Subscription Revenue", 0, 10 * K)]
    assert "Platform Subscription" in entries[2]["source"] and entries[2]["record"].startswith(
        "SO-")
    text = closebot("books", "deal", "Acme Corp", env=env, cwd=tmp_path)
    assert text.returncode == 0 and f"Stripe invoice {invoice['id']}" in text.stdout
    assert "Cr USD 10,000.00" in text.stdout


def test_what_the_books_refuse_in_one_line(
    acme: tuple[SandboxStack, dict[str, str], str], tmp_path: Path
) -> None:
    _, env, _ = acme
    for args, code, words in (
        (("books", "deal", "Nobody Ltd"), 1, "no deal"),
        (("books", "trial-balance", "--as-of", "31/12/2026"), 2, "is not a date"),
    ):
        done = closebot(*args, env=env, cwd=tmp_path)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr
    netsuite = closebot("books", "trial-balance", env={**env, "ERP": "netsuite"}, cwd=tmp_path)
    assert netsuite.returncode == 2
    assert lines(netsuite.stderr) == [
        "closebot: the books live in NetSuite (ERP=netsuite): read them there; `closebot books` "
        "reads the embedded ledger only."]
    for setting in ("STRIPE_API_BASE", "SALESFORCE_INSTANCE_URL"):
        real = {**env, setting: "https://api.example.com"}
        refused = closebot("sandbox", "advance", "--days", "31", env=real, cwd=tmp_path)
        assert refused.returncode == 1
        assert len(lines(refused.stderr)) == 1 and setting in refused.stderr


def test_books_deal_shows_how_a_contract_change_is_classified(
    acme: tuple[SandboxStack, dict[str, str], str], tmp_path: Path
) -> None:
    """The subscription raised to $110,000 on signing day: Stripe bills the whole $10,000
    difference for the period at once. Nothing is recognized before the change takes effect
    (the implementation is recognized on that day, not before it), so 120,000 + 10,000 =
    130,000 is allocated over what is left at the new prices, 20,000 and 110,000: the
    implementation keeps 20,000.00, the subscription 110,000.00. The months left are distinct
    from those transferred: prospective (ASC 606-10-25-13(a))."""
    stack, env, opportunity = acme
    by_product = {stack.salesforce.get("Product2", r["Product2Id"])["Name"]: r["Id"]
                  for r in stack.salesforce.records("OpportunityLineItem")
                  if r["OpportunityId"] == opportunity}
    stack.salesforce.update("OpportunityLineItem", by_product["Platform Subscription"],
                            {"UnitPrice": 110_000})
    synced = closebot("sync", "--once", env=env, cwd=tmp_path)
    assert synced.returncode == 0, synced.stdout + synced.stderr

    [proration] = [i for i in stack.stripe.objects("invoice")
                   if i["billing_reason"] == "subscription_update"]
    assert proration["total"] == 10 * K
    (change,) = _json(env, tmp_path, "books", "deal", opportunity)["modifications"]
    assert (change["kind"], change["version"], change["amends"]) == ("prospective", 2, 1)
    assert change["remaining"] == {by_product["Implementation Services"]: 20 * K,
                                   by_product["Platform Subscription"]: 110 * K}
    assert change["catch_up"] == {}
    text = closebot("books", "deal", "Acme Corp", env=env, cwd=tmp_path)
    assert text.returncode == 0
    assert "Contract change v1 → v2 from" in text.stdout
    assert ": prospective. Changes obligations whose remaining goods are distinct" in text.stdout
