"""Legal entities: the configuration read strictly, each deal routed to exactly one entity, and an
unknown entity a validation problem naming the field, never a default guess."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.config_check import check
from app.entities_config import entities_line
from app.settings import DEFAULT_REQUIRED_FIELDS, Settings
from app.stripe_webhooks import Endpoint, endpoints
from app.wiring import NotConfigured, engine_config
from sync.contracts.entities import EntityConfigError, parse
from sync.contracts.normalize import InvalidDeal, normalize
from sync.ops.audit_entities import EntityTotals, by_entity
from sync.ops.audit_variance import Variance
from tests.unit.deals import deal

US = {"name": "Acme Inc", "billing_entity": ["US"], "countries": ["US", "United States"],
      "stripe_account": "acct_US000000000001", "netsuite_subsidiary": "1",
      "intacct_entity": "US-E", "functional_currency": "usd", "approvers": ["UUS1"]}
UK = {"name": "Acme Ltd", "billing_entity": ["UK"], "countries": ["GB", "United Kingdom"],
      "stripe_api_key_env": "STRIPE_KEY_UK", "netsuite_subsidiary": "2",
      "intacct_entity": "UK-E", "functional_currency": "GBP", "approvers": ["UUK1"]}
ENTITIES = json.dumps([US, UK])


def _settings(**values: Any) -> Settings:
    return Settings(database_url="sqlite://", stripe_api_key="sk_test_x", **values)


def test_the_configuration_reads_every_field() -> None:
    entities = parse(ENTITIES)
    us, uk = entities.entities
    assert (us.name, us.functional_currency, us.stripe_account, us.netsuite_subsidiary,
            us.intacct_entity, us.approvers) == (
        "Acme Inc", "USD", "acct_US000000000001", "1", "US-E", frozenset({"UUS1"}))
    assert (uk.stripe_api_key_env, uk.countries) == ("STRIPE_KEY_UK", ("GB", "United Kingdom"))
    assert not parse("") and not parse(None)


@pytest.mark.parametrize(("config", "words"), [
    ("{not json", "not valid JSON"),
    ('{"name": "x"}', "JSON list"),
    (json.dumps([{**US, "functional_currency": "XYZ"}]), "functional_currency XYZ"),
    (json.dumps([{**US, "stripe_account": "US"}]), "acct_"),
    (json.dumps([{**US, "stripe_api_key_env": "K"}]), "not both"),
    (json.dumps([{**US, "subsidary": "1"}]), "unknown setting subsidary"),
    (json.dumps([US, {**UK, "countries": ["us"]}]), "both sell to 'us'"),
    (json.dumps([US, {**UK, "billing_entity": ["acme inc"]}]), "both answer"),
    (json.dumps([{**US, "name": ""}]), "entity 1 has no name"),
    # A Connect account's events come to the platform's Connect endpoint, signed with its secret.
    (json.dumps([{**US, "stripe_webhook_secret_env": "WH_US"}]),
     "STRIPE_CONNECT_WEBHOOK_SECRET"),
])
def test_a_bad_configuration_says_what_to_fix(config: str, words: str) -> None:
    with pytest.raises(EntityConfigError, match=words):
        parse(config)


def test_a_deal_is_routed_by_billing_entity_before_country() -> None:
    entities = parse(ENTITIES)
    named = deal(Billing_Entity__c=" uk ", **{"Account.BillingCountry": "US"})
    assert normalize(named, version=1, required=DEFAULT_REQUIRED_FIELDS,
                     entities=entities).entity == "Acme Ltd"
    by_country = deal(**{"Account.BillingCountry": "united states"})
    assert normalize(by_country, version=1, required=DEFAULT_REQUIRED_FIELDS,
                     entities=entities).entity == "Acme Inc"


@pytest.mark.parametrize(("fields", "words"), [
    ({"Billing_Entity__c": "Acme GmbH"},
     "Billing Entity 'Acme GmbH' is not one of the entities closebot books for "
     "(Acme Inc, Acme Ltd)"),
    ({"Account.BillingCountry": "DE"},
     "Billing Entity is empty and no entity sells to the account's Billing Country 'DE': "
     "set Billing Entity to one of Acme Inc, Acme Ltd"),
    ({}, "Billing Entity is empty and the account has no Billing Country"),
])
def test_an_unknown_entity_is_a_validation_problem_never_a_guess(
        fields: dict[str, str], words: str) -> None:
    with pytest.raises(InvalidDeal) as raised:
        normalize(deal(**fields), version=1, required=DEFAULT_REQUIRED_FIELDS,
                  entities=parse(ENTITIES))
    (problem,) = raised.value.problems
    assert problem.field == "Billing_Entity__c" and problem.message.startswith(words)


def test_without_entities_a_contract_is_as_before() -> None:
    plain = normalize(deal(Billing_Entity__c="Nowhere"), version=1,
                      required=DEFAULT_REQUIRED_FIELDS)
    assert plain.entity is None
    # Contracts stored before entities existed keep their fingerprint: no re-versioning.
    body = plain.model_dump(mode="json", exclude={"version", "canceled_on", "entity"})
    assert "entity" not in body
    routed = normalize(deal(Billing_Entity__c="US"), version=1,
                       required=DEFAULT_REQUIRED_FIELDS, entities=parse(ENTITIES))
    assert routed.terms_hash() != plain.terms_hash()
    assert routed.model_copy(update={"entity": None}).terms_hash() == plain.terms_hash()


def test_config_check_reports_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_KEY_UK", raising=False)
    line, ok = entities_line(_settings(entities=ENTITIES))
    assert not ok and "Acme Inc (USD), Acme Ltd (GBP)" in line
    assert "MISSING: Acme Ltd needs STRIPE_KEY_UK" in line
    assert line in check(_settings(entities=ENTITIES))[0]
    monkeypatch.setenv("STRIPE_KEY_UK", "sk_test_uk")
    assert entities_line(_settings(entities=ENTITIES)) == (
        "entities    : Acme Inc (USD), Acme Ltd (GBP)", True)
    assert entities_line(_settings(erp="netsuite", entities=json.dumps([
        {**US, "netsuite_subsidiary": None}]))) == (
        "entities    : Acme Inc (USD) MISSING: Acme Inc has no netsuite_subsidiary", False)
    line, ok = entities_line(_settings(entities=json.dumps([{**US, "functional_currency": ""}])))
    assert not ok and line.startswith(
        "entities    : INVALID: ENTITIES: entity 'Acme Inc': functional_currency (empty)")
    assert entities_line(_settings()) == ("entities    : one company (ENTITIES unset)", True)


def test_entities_from_a_file(tmp_path: Any) -> None:
    path = tmp_path / "entities.json"
    path.write_text(ENTITIES)
    config = engine_config(_settings(entities_file=str(path)))
    assert [e.name for e in config.entities.entities] == ["Acme Inc", "Acme Ltd"]
    with pytest.raises(NotConfigured, match=r"ENTITIES_FILE .* can't be read"):
        engine_config(_settings(entities_file=str(tmp_path / "missing.json")))
    with pytest.raises(NotConfigured, match="ENTITIES and ENTITIES_FILE are both set"):
        engine_config(_settings(entities_file=str(path), entities=ENTITIES))


def test_the_audit_splits_figures_and_variances_by_entity() -> None:
    # Two deals: Acme Inc's booked USD 1,000.00, Acme Ltd's GBP 500.00 with one variance
    # (and one excused by an open exception, not counted); Stripe's balance is the company's.
    totals = EntityTotals()
    totals.deal_of("Acme Inc")
    totals.add("USD", booked=100_000)
    totals.deal_of("Acme Ltd")
    totals.add("GBP", booked=50_000)
    totals.current = None
    totals.add("USD", stripe_balance=7_000)
    variances = [Variance("contract_value", "off by 1.00", "006UK"),
                 Variance("erp_balance", "known", "006UK", excused_by="exception 3")]
    split = by_entity(totals, variances, {"006US": "Acme Inc", "006UK": "Acme Ltd"})
    assert split == {
        "Acme Inc": {"totals": {"USD": {"booked": 100_000}}, "variances": 0},
        "Acme Ltd": {"totals": {"GBP": {"booked": 50_000}}, "variances": 1},
    }
    assert totals.to_dict() == {"GBP": {"booked": 50_000},
                                "USD": {"booked": 100_000, "stripe_balance": 7_000}}
    assert by_entity(totals, variances, {}) == {}  # one company: the audit reads as before


def test_an_entitys_own_webhook_secret_is_read_and_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An entity with its own key names its own endpoint's secret; unset, config check says
    so; set, `/stripe/webhooks` accepts it beside the company's and the Connect endpoint's."""
    monkeypatch.setenv("STRIPE_KEY_UK", "sk_test_uk")
    monkeypatch.delenv("WH_UK", raising=False)
    config = json.dumps([US, {**UK, "stripe_webhook_secret_env": "WH_UK"}])
    (_, uk) = parse(config).entities
    assert uk.stripe_webhook_secret_env == "WH_UK"
    line, ok = entities_line(_settings(entities=config))
    assert not ok and line.endswith("MISSING: Acme Ltd needs WH_UK")
    monkeypatch.setenv("WH_UK", "whsec_uk")
    settings = _settings(entities=config, stripe_webhook_secret="whsec_company",
                         stripe_connect_webhook_secret="whsec_connect")
    assert endpoints(settings, parse(config)) == [
        Endpoint("whsec_company"), Endpoint("whsec_connect", connect=True),
        Endpoint("whsec_uk", entity="Acme Ltd")]
    assert endpoints(_settings(), parse("")) == []
