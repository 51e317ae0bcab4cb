"""Contract assets (ASC 606-10-45-3), as a person reads them: `closebot books contract-assets`
against the sandbox's emulators on the embedded ledger.

The seed deal with the implementation waived and billed monthly: Implementation Services list
USD 20,000 sold for 0 (one-time), Platform Subscription USD 100,000 over 10 months billed
USD 10,000 a month in advance. SSPs 20,000 a unit and 10,000 a month (120,000 standalone):
allocated 100,000 x 20/120 = 16,666.67 and x 100/120 = 83,333.33, the subscription's 10
periods 3 x 8,333.34 + 7 x 8,333.33. Worked by hand before any code:
- Signing day: invoice 1 bills 10,000.00 (Dr AR / Cr Deferred 10,000.00); the implementation
  is delivered and recognized, Dr Deferred 16,666.67 / Cr Services Revenue 16,666.67. The
  contract has recognized 6,666.67 more than it billed: a contract asset of 6,666.67, no
  liability; Deferred Revenue as booked is a 6,666.67 debit (-6,666.67).
- 31 days on: period 1 recognized (8,333.34) and invoice 2 bills 10,000.00, which
  reclassifies 10,000.00 of the asset into the receivable: 6,666.67 + 8,333.34 - 10,000.00 =
  5,000.01. AR 20,000.00 Dr; Deferred 5,000.01 Dr; Services 16,666.67 and Subscription
  8,333.34 Cr (20,000.00 + 5,000.01 = 25,000.01 = 16,666.67 + 8,333.34).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from sandbox.book import BookSeeder, DealSpec, LineSpec
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, succeeds

IMPL, PLATFORM = "Implementation Services", "Platform Subscription"


def _positions(env: dict[str, str], cwd: Path) -> dict:
    return json.loads(succeeds("books", "contract-assets", "--json", env=env, cwd=cwd))


def test_a_waived_implementation_billed_monthly_is_a_contract_asset(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        opportunity = BookSeeder(stack.salesforce).seed(DealSpec(
            "Acme Corp - Platform 2026", "Acme Corp", "dana@acme-sales.example", "USD",
            "Monthly", "Net 30", 10,
            [LineSpec(IMPL, 1, Decimal("20000"), "One-Time", Decimal("100")),
             LineSpec(PLATFORM, 1, Decimal("100000"), "Recurring")], date.today()))
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'ca.db'}",
                        DISCOUNT_APPROVAL_PCT="100")
        succeeds("sync", "--once", env=env, cwd=tmp_path)  # held: the waiver needs SSPs
        succeeds("ssp", "set", IMPL, "20000", env=env, cwd=tmp_path)
        succeeds("ssp", "set", PLATFORM, "10000", env=env, cwd=tmp_path)
        succeeds("sync", "--once", env=env, cwd=tmp_path)
        assert [i["total"] for i in stack.stripe.objects("invoice")] == [1_000_000]

        signing = _positions(env, tmp_path)
        assert signing["contracts"] == [{"opportunity_id": opportunity, "currency": "USD",
                                         "asset_minor": 666_667, "liability_minor": 0}]
        assert signing["currencies"] == [{"currency": "USD", "assets_minor": 666_667,
                                          "liabilities_minor": 0, "deferred_minor": -666_667}]
        text = succeeds("books", "contract-assets", env=env, cwd=tmp_path)
        assert "contract assets (unbilled receivables) USD 6,666.67" in text
        assert f"{opportunity}  contract asset USD 6,666.67" in text

        # A day past the renewal whatever the month: Stripe creates the renewal invoice as a
        # draft and finalizes it an hour later, and from a 31-day month 31 days is the renewal.
        succeeds("sandbox", "advance", "--days", "32", env=env, cwd=tmp_path)
        succeeds("sync", "--once", env=env, cwd=tmp_path)
        assert sorted(i["total"] for i in stack.stripe.objects("invoice")) == [
            1_000_000, 1_000_000]
        later = _positions(env, tmp_path)
        assert later["currencies"] == [{"currency": "USD", "assets_minor": 500_001,
                                        "liabilities_minor": 0, "deferred_minor": -500_001}]
        [usd] = json.loads(succeeds("books", "trial-balance", "--json", env=env,
                                    cwd=tmp_path))["currencies"]
        balances = {a["name"]: (a["debit_minor"], a["credit_minor"]) for a in usd["accounts"]}
        assert balances == {
            "Accounts Receivable": (2_000_000, 0), "Deferred Revenue": (500_001, 0),
            "Services Revenue": (0, 1_666_667), "Subscription Revenue": (0, 833_334)}
