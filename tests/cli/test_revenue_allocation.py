"""Relative-SSP allocation end to end, as a person runs it: `closebot ssp set`, `sync --once`,
`books`, `audit`, against the sandbox's emulators on the embedded ledger.

The seed deal with the implementation at 50% off: Implementation Services list USD 20,000 sold
for 10,000 (one-time), Platform Subscription USD 100,000 over 10 months (USD 10,000 a month),
billed annually up front: one invoice of USD 110,000. SSPs: implementation 20,000 a unit,
platform 10,000 a month (100,000 standalone). Worked by hand before any code:
- No SSP yet: the discount must be allocated, so the deal is held, naming both products; nothing
  is billed.
- SSPs set, synced: allocation 110,000 x 20/120 = 18,333.33 and x 100/120 = 91,666.67.
  Invoice: Dr AR 110,000.00 / Cr Deferred 110,000.00 (contract prices billed). The
  implementation (delivered on day one): Dr Deferred 18,333.33 / Cr Services Revenue 18,333.33.
  Trial balance: AR 110,000.00 Dr; Deferred 91,666.67, Services 18,333.33 Cr.
- The subscription's schedule: 9,166,667 cents in 10 periods, the 7 cents of remainder on the
  first seven: 7 x 9,166.67 + 3 x 9,166.66 = 91,666.67.
- 31 days on: period 1, Dr Deferred 9,166.67 / Cr Subscription Revenue 9,166.67. Trial balance:
  AR 110,000.00 Dr; Deferred 82,500.00, Subscription 9,166.67, Services 18,333.33 Cr
  (82,500.00 + 9,166.67 + 18,333.33 = 110,000.00).
- The audit per obligation: implementation invoiced (allocated) 18,333.33 = recognized 18,333.33
  + deferred 0; platform 91,666.67 = 9,166.67 + 82,500.00: no variance.
"""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, succeeds

IMPL, PLATFORM = "Implementation Services", "Platform Subscription"


def _ok(env: dict[str, str], cwd: Path, *args: str) -> str:
    return succeeds(*args, env=env, cwd=cwd)


def _balances(env: dict[str, str], cwd: Path) -> dict[str, tuple[int, int]]:
    [usd] = json.loads(_ok(env, cwd, "books", "trial-balance", "--json"))["currencies"]
    assert usd["balanced"]
    return {a["name"]: (a["debit_minor"], a["credit_minor"]) for a in usd["accounts"]}


def _allocated(stack: SandboxStack, env: dict[str, str], cwd: Path) -> dict[str, dict]:
    """The Acme deal billed at contract prices and allocated 18,333.33 / 91,666.67."""
    [invoice] = stack.stripe.objects("invoice")
    assert invoice["total"] == 11_000_000  # contract prices are billed
    assert _balances(env, cwd) == {
        "Accounts Receivable": (11_000_000, 0), "Deferred Revenue": (0, 9_166_667),
        "Services Revenue": (0, 1_833_333)}
    schedule = json.loads(_ok(env, cwd, "books", "schedule", "acme", "--json"))
    by_product = {o["description"]: o for o in schedule["obligations"]}
    assert by_product[IMPL]["allocated_minor"] == 1_833_333
    return by_product


def test_half_off_implementation_is_held_then_allocated(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        BookSeeder(stack.salesforce).seed(DealSpec(
            "Acme Corp - Platform 2026", "Acme Corp", "dana@acme-sales.example", "USD",
            "Annual", "Net 30", 10,
            [LineSpec(IMPL, 1, Decimal("20000"), "One-Time", Decimal("50")),
             LineSpec(PLATFORM, 1, Decimal("100000"), "Recurring")], date.today()))
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'rev.db'}",
                        DISCOUNT_APPROVAL_PCT="60")
        closebot("sync", "--once", env=env, cwd=tmp_path)
        assert stack.stripe.objects("invoice") == []
        held = json.loads(_ok(env, tmp_path, "exceptions", "list", "--json"))
        reasons = " ".join(str(e) for e in (held if isinstance(held, list) else [held]))
        assert "no standalone selling price in USD for Implementation Services, Platform " \
            "Subscription" in reasons

        assert _ok(env, tmp_path, "ssp", "set", IMPL, "20000").strip() == (
            "Implementation Services: SSP USD 20,000.00")
        _ok(env, tmp_path, "ssp", "set", PLATFORM, "10000", "--by", "controller@acme.example")
        assert json.loads(_ok(env, tmp_path, "ssp", "list", "--json"))[1] == {
            "product": PLATFORM, "currency": "USD", "low_minor": 1_000_000,
            "high_minor": 1_000_000, "updated_by": "controller@acme.example"}
        _ok(env, tmp_path, "sync", "--once")

        by_product = _allocated(stack, env, tmp_path)
        assert [p["amount_minor"] for p in by_product[PLATFORM]["periods"]] == (
            [916_667] * 7 + [916_666] * 3)

        _ok(env, tmp_path, "sandbox", "advance", "--days", "31")
        _ok(env, tmp_path, "sync", "--once")
        assert _balances(env, tmp_path) == {
            "Accounts Receivable": (11_000_000, 0), "Deferred Revenue": (0, 8_250_000),
            "Subscription Revenue": (0, 916_667), "Services Revenue": (0, 1_833_333)}
        audit = closebot("audit", "--json", "--no-alerts", env=env, cwd=tmp_path)
        report = json.loads(audit.stdout)
        assert report["variances"] == [] and report["ok"], audit.stdout


def test_ssps_from_the_salesforce_product_allocate_and_a_bad_range_is_held(
        tmp_path: Path) -> None:
    # Same deal and same figures as above, with the SSPs on the Salesforce products instead of
    # closebot's table: Implementation Services SSP__c 20,000 (a point); Platform Subscription
    # SSP__c 9,000 .. SSP_High__c 11,000 a month, so its 10,000 a month is inside the range
    # (standalone 100,000). Allocation 110,000 x 20/120 = 18,333.33 and x 100/120 = 91,666.67:
    # Trial balance AR 110,000.00 Dr; Deferred 91,666.67, Services 18,333.33 Cr.
    # A second deal sells Training (SSP__c 5,000, SSP_High__c 4,000: a range holding no price)
    # at 50% off beside the platform: held, naming the product and the fields by label.
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        acme = seeder.seed(DealSpec(
            "Acme Corp - Platform 2026", "Acme Corp", "dana@acme-sales.example", "USD",
            "Annual", "Net 30", 10,
            [LineSpec(IMPL, 1, Decimal("20000"), "One-Time", Decimal("50")),
             LineSpec(PLATFORM, 1, Decimal("100000"), "Recurring")], date.today()))
        seeder.seed(DealSpec(
            "Beta LLC - Platform 2026", "Beta LLC", "dana@acme-sales.example", "USD",
            "Annual", "Net 30", 10,
            [LineSpec("Training", 1, Decimal("5000"), "One-Time", Decimal("50")),
             LineSpec(PLATFORM, 1, Decimal("100000"), "Recurring")], date.today()))
        ssps = {IMPL: {"SSP__c": 20000}, PLATFORM: {"SSP__c": 9000, "SSP_High__c": 11000},
                "Training": {"SSP__c": 5000, "SSP_High__c": 4000}}
        for product in stack.salesforce.records("Product2"):
            stack.salesforce.update("Product2", product["Id"], ssps[product["Name"]])
        time.sleep(1.1)  # Acme changed last, a second on: the intake cursor passes Beta for good
        stack.salesforce.update("Opportunity", acme, {"Description": "Signed"})
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'rev.db'}",
                        DISCOUNT_APPROVAL_PCT="60", INTAKE_OVERLAP_S="0")
        _ok(env, tmp_path, "sync", "--once")

        by_product = _allocated(stack, env, tmp_path)
        assert by_product[PLATFORM]["allocated_minor"] == 9_166_667
        held = json.loads(_ok(env, tmp_path, "exceptions", "list", "--json"))
        reasons = " ".join(str(e) for e in (held if isinstance(held, list) else [held]))
        assert ("Training: the SSP High USD 4,000.00 is below the Standalone Selling Price "
                "USD 5,000.00") in reasons
        assert "Traceback" not in reasons

        # Fixed in Salesforce (SSP High 6,000): the product changed, not the deal, yet the next
        # sync takes the held deal again. Training sold at 2,500 is below its range 5,000 ..
        # 6,000, so its standalone value is 5,000; the platform's is 100,000. Price 102,500:
        # Training 10,250,000 x 500,000 / 10,500,000 = 488,095.24 -> 488,095 cents; platform
        # 9,761,904.76 -> 9,761,904 + the 1 cent left (largest remainder) = 9,761,905.
        # 4,880.95 + 97,619.05 = 102,500.00. Trial balance, both deals: AR 110,000 + 102,500 =
        # 212,500.00 Dr; Services 18,333.33 + 4,880.95 = 23,214.28 Cr; Deferred 212,500.00 -
        # 23,214.28 = 189,285.72 Cr.
        [training] = [p for p in stack.salesforce.records("Product2") if p["Name"] == "Training"]
        stack.salesforce.update("Product2", training["Id"], {"SSP_High__c": 6000})
        _ok(env, tmp_path, "sync", "--once")
        assert sorted(i["total"] for i in stack.stripe.objects("invoice")) == [
            10_250_000, 11_000_000]
        assert _balances(env, tmp_path) == {
            "Accounts Receivable": (21_250_000, 0), "Deferred Revenue": (0, 18_928_572),
            "Services Revenue": (0, 2_321_428)}
        beta = json.loads(_ok(env, tmp_path, "books", "schedule", "beta", "--json"))
        assert {o["description"]: o["allocated_minor"] for o in beta["obligations"]} == {
            "Training": 488_095, PLATFORM: 9_761_905}
        assert json.loads(_ok(env, tmp_path, "exceptions", "list", "--json")) == []
