"""The doctor's own knowledge stays true: the fields it checks are the ones the write-back
writes, and each finding reads as one line."""

from __future__ import annotations

import re
from pathlib import Path

from sync.connectors.salesforce_checks import WRITTEN, check_object, read_fields
from sync.connectors.stripe_checks import key_kind
from sync.ports import Check

ROOT = Path(__file__).resolve().parents[2]


def test_written_fields_are_what_the_write_back_writes() -> None:
    source = (ROOT / "sync" / "engine" / "writeback.py").read_text()
    literals = set(re.findall(r'"([A-Za-z_]+__c)"', source))
    written = {name for names in WRITTEN.values() for name in names}
    assert literals == written


def test_a_missing_currency_field_means_multi_currency_is_off() -> None:
    described = {"fields": [{"name": n, "label": n, "updateable": True}
                            for n in read_fields()["Opportunity"] if n != "CurrencyIsoCode"]}
    (problem,) = check_object("Opportunity", described)
    assert problem.line() == (
        "✗ Salesforce: Opportunity field CurrencyIsoCode (CurrencyIsoCode) is missing — turn on "
        "multiple currencies: Setup → Company Information → Currency Setup (closebot bills each "
        "deal in its own currency)")


def test_key_kinds() -> None:
    assert key_kind("sk_test_abc") == ("secret key", "test")
    assert key_kind("rk_live_abc") == ("restricted key", "live")
    assert key_kind("pk_test_abc") is None and key_kind("whsec_abc") is None


def test_lines() -> None:
    assert Check("Stripe", True, "fine").line() == "✓ Stripe: fine"
    assert Check("Stripe", False, "broken", "fix it").line() == "✗ Stripe: broken — fix it"
    assert Check("Stripe", False, "broken").to_dict() == {
        "system": "Stripe", "ok": False, "what": "broken", "fix": ""}
