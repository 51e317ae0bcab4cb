"""Legal entities a company sells from, and which one a deal belongs to.

Each entity has its own Stripe account (a separate API key, or a Connect account reached with
the `Stripe-Account` header), its own place in the ERP (a NetSuite subsidiary, a Sage Intacct
entity), its functional currency and its approvers. A deal names its entity in Billing Entity,
or else the account's billing country picks it; a deal matching no entity, or more than one,
is a validation problem: closebot never guesses an entity.

Without any entity configured closebot runs as one company and a contract carries no entity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.contracts.fields import label
from sync.contracts.terms import is_blank
from sync.contracts.validation import Problem
from sync.money import is_known_currency

ENTITY_FIELD = "Billing_Entity__c"
COUNTRY_FIELD = "Account.BillingCountry"

_KEYS = frozenset({"name", "billing_entity", "countries", "stripe_account", "stripe_api_key_env",
                   "stripe_webhook_secret_env", "netsuite_subsidiary", "intacct_entity",
                   "functional_currency", "approvers"})


class EntityConfigError(ValueError):
    """The entity configuration can't be used; the message says which entry and what to fix."""


@dataclass(frozen=True)
class Entity:
    name: str
    functional_currency: str
    # What Billing Entity may say for this entity (its name always matches), case-insensitive.
    billing_entity: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # the account billing countries it sells to
    stripe_account: str | None = None  # a Connect account ID, sent as `Stripe-Account`
    stripe_api_key_env: str | None = None  # or the environment variable holding its own key
    # With its own key: the environment variable holding its own account's webhook endpoint's
    # signing secret (a Connect account's events come to the platform's Connect endpoint).
    stripe_webhook_secret_env: str | None = None
    netsuite_subsidiary: str | None = None
    intacct_entity: str | None = None
    approvers: frozenset[str] = field(default_factory=frozenset)  # Slack user IDs

    def names(self) -> frozenset[str]:
        return frozenset(_fold(v) for v in (self.name, *self.billing_entity))


@dataclass(frozen=True)
class Entities:
    entities: tuple[Entity, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entities)

    def get(self, name: str | None) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)

    def known(self) -> str:
        return ", ".join(e.name for e in self.entities)

    def resolve(self, fields: Mapping[str, Any]) -> Entity | Problem | None:
        """The deal's entity; a `Problem` naming the field when none or several match; None
        when no entities are configured."""
        if not self.entities:
            return None
        named = fields.get(ENTITY_FIELD)
        if not is_blank(named):
            value = str(named).strip()
            hit = next((e for e in self.entities if _fold(value) in e.names()), None)
            if hit is not None:
                return hit
            return Problem(ENTITY_FIELD, f"{label(ENTITY_FIELD)} '{value[:80]}' is not one of "
                                         f"the entities closebot books for ({self.known()})")
        country = fields.get(COUNTRY_FIELD)
        if is_blank(country):
            return Problem(ENTITY_FIELD, (
                f"{label(ENTITY_FIELD)} is empty and the account has no Billing Country, so "
                f"closebot can't tell which entity sells this deal ({self.known()})"))
        value = str(country).strip()
        # Countries are unique across entities (checked when the configuration is read).
        hit = next((e for e in self.entities
                    if _fold(value) in {_fold(c) for c in e.countries}), None)
        if hit is not None:
            return hit
        return Problem(ENTITY_FIELD, (
            f"{label(ENTITY_FIELD)} is empty and no entity sells to the account's Billing Country "
            f"'{value[:80]}': set {label(ENTITY_FIELD)} to one of {self.known()}"))


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EntityConfigError(f"{where} must be a list of names")
    return tuple(v.strip() for v in value)


def _entity(raw: Any, n: int) -> Entity:
    if not isinstance(raw, dict):
        raise EntityConfigError(f"entity {n} must be an object with a name")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EntityConfigError(f"entity {n} has no name")
    where = f"entity {name!r}"
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise EntityConfigError(f"{where}: unknown setting {', '.join(unknown)}")
    currency = str(raw.get("functional_currency") or "").strip().upper()
    if not is_known_currency(currency):
        raise EntityConfigError(f"{where}: functional_currency {currency or '(empty)'} is not "
                                "an ISO 4217 currency")
    account, key_env = raw.get("stripe_account"), raw.get("stripe_api_key_env")
    if account and key_env:
        raise EntityConfigError(f"{where}: give stripe_account or stripe_api_key_env, not both")
    if account is not None and not (isinstance(account, str) and account.startswith("acct_")):
        raise EntityConfigError(f"{where}: stripe_account must be a Stripe account ID (acct_…)")
    if raw.get("stripe_webhook_secret_env") is not None and not key_env:
        raise EntityConfigError(f"{where}: stripe_webhook_secret_env is for an entity with its "
                                "own key (stripe_api_key_env); a Connect account's events are "
                                "signed with STRIPE_CONNECT_WEBHOOK_SECRET")
    strings = {k: raw.get(k) for k in ("stripe_api_key_env", "stripe_webhook_secret_env",
                                       "netsuite_subsidiary", "intacct_entity")}
    for k, v in strings.items():
        if v is not None and (not isinstance(v, str | int) or not str(v).strip()):
            raise EntityConfigError(f"{where}: {k} must be text")
    return Entity(
        name=name.strip(), functional_currency=currency,
        billing_entity=_strings(raw.get("billing_entity"), f"{where}: billing_entity"),
        countries=_strings(raw.get("countries"), f"{where}: countries"),
        stripe_account=account,
        **{k: (str(v).strip() if v is not None else None) for k, v in strings.items()},
        approvers=frozenset(_strings(raw.get("approvers"), f"{where}: approvers")),
    )


def parse(text: str | None) -> Entities:
    """ENTITIES as JSON: a list of entity objects (docs/entities.md). Empty → one company."""
    if text is None or not text.strip():
        return Entities()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EntityConfigError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(raw, list):
        raise EntityConfigError("must be a JSON list of entities")
    entities = tuple(_entity(item, n) for n, item in enumerate(raw, start=1))
    _check_unique(entities)
    return Entities(entities)


def _check_unique(entities: Iterable[Entity]) -> None:
    seen: dict[str, str] = {}
    countries: dict[str, str] = {}
    for entity in entities:
        for name in entity.names():
            if name in seen:
                raise EntityConfigError(f"entities {seen[name]!r} and {entity.name!r} both "
                                        f"answer to the Billing Entity {name!r}")
            seen[name] = entity.name
        for country in entity.countries:
            if _fold(country) in countries:
                raise EntityConfigError(f"entities {countries[_fold(country)]!r} and "
                                        f"{entity.name!r} both sell to {country!r}")
            countries[_fold(country)] = entity.name
