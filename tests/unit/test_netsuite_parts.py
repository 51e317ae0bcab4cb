"""The NetSuite connector's small parts: exact decimal JSON, and configuration that names what
is missing without showing a secret."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config_check import check
from app.settings import Settings
from app.wiring import NotConfigured, make_erp
from sync.connectors.exact_json import dumps, loads
from sync.connectors.netsuite_transport import default_base_url

amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2,
                      allow_nan=False, allow_infinity=False)


@given(amounts)
def test_decimals_travel_exactly(value: Decimal) -> None:
    text = dumps({"amount": value, "lines": [value, "x", None, True, 3]})
    back = loads(text)
    assert back["amount"] == value and back["lines"] == [value, "x", None, True, 3]
    assert json.loads(text)["lines"][1:] == ["x", None, True, 3]  # plain JSON too


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"amount": 0.1})
    with pytest.raises(ValueError):
        dumps(Decimal("NaN"))


def test_account_host() -> None:
    assert default_base_url("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com"


def test_missing_netsuite_settings_are_named_and_secrets_never_shown() -> None:
    partial = Settings(erp="netsuite", netsuite_account_id="1234567",
                       netsuite_consumer_secret="cs-very-secret", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(NotConfigured, match="NETSUITE_CONSUMER_KEY"):
        make_erp(partial, None)  # type: ignore[arg-type]
    lines, ok = check(partial)
    assert not ok and any("NETSUITE_TOKEN_ID" in line for line in lines)
    full = partial.model_copy(update={
        "netsuite_consumer_key": "ck", "netsuite_token_id": "tk",
        "netsuite_token_secret": partial.netsuite_consumer_secret})
    lines, _ = check(full)
    text = "\n".join(lines)
    assert "netsuite configured (real, account 1234567" in text
    assert "cs-very-secret" not in text


def test_config_check_shows_where_netsuite_records_book() -> None:
    settings = Settings(erp="netsuite", netsuite_account_id="1234567", netsuite_consumer_key="ck",
                        netsuite_consumer_secret="cs", netsuite_token_id="tk",
                        netsuite_token_secret="ts", netsuite_subsidiary="2",
                        netsuite_tax_code="7", _env_file=None)  # type: ignore[call-arg]
    lines, _ = check(settings)
    assert ("erp         : netsuite configured (real, account 1234567, token-based auth set, "
            "books to subsidiary 2, tax code 7)") in lines
