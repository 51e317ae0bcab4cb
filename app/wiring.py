"""The composition root: settings in, a runtime with real connectors out."""

from __future__ import annotations

import copy
import dataclasses
import os
import socket
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.entities_config import load_entities
from app.salesforce_auth import choose as choose_salesforce_login
from app.salesforce_auth import login_flow as salesforce_login_flow
from app.settings import Settings
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from sync.cash.payment_invoices import KnownPayments
from sync.connectors.intacct import GlAccounts, IntacctErp
from sync.connectors.intacct_cash import IntacctCash, cash_accounts
from sync.connectors.intacct_journal import IntacctRevenueJournal
from sync.connectors.ledger import LedgerErp
from sync.connectors.ledger_cash import LedgerCash, Scope
from sync.connectors.netsuite import NetSuiteErp
from sync.connectors.netsuite_cash import DEFAULT_ACCOUNTS, NetSuiteCash
from sync.connectors.netsuite_journal import NetSuiteRevenueJournal
from sync.connectors.netsuite_setup import NetSuiteSetup
from sync.connectors.ratelimit import maybe_bucket, stripe_default_rate
from sync.connectors.revenue_subledger import RevenueSubledger
from sync.connectors.salesforce import SalesforceCrm
from sync.connectors.stripe_billing import StripeBilling
from sync.connectors.stripe_cash import StripeCash
from sync.connectors.stripe_payouts import StripePayouts
from sync.contracts.entities import Entities, Entity, EntityConfigError
from sync.contracts.policy import PolicyLimits
from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import EngineConfig, Runtime
from sync.engine.telemetry import instrument
from sync.ledger import Ledger, fx_rates
from sync.ledger.entity_books import NO_ENTITY
from sync.ledger.subledger_close import ErpPeriodCloses
from sync.ports import Billing, Erp
from sync.ports_cash import CashErp, CashPorts
from sync.ports_revenue import PeriodCloses, RevenueJournal


class NotConfigured(RuntimeError):
    """A system closebot needs has no credentials; `closebot config check` says which."""


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        required_fields=settings.required_field_list,
        limits=PolicyLimits(
            discount_pct=settings.discount_approval_pct,
            amendment_pct=settings.amendment_approval_pct,
            max_payment_terms_days=settings.max_payment_terms_days,
        ),
        max_attempts=settings.max_attempts,
        backoff_base_s=settings.backoff_base_s,
        backoff_max_s=settings.backoff_max_s,
        lease=timedelta(seconds=settings.lease_s),
        batch_size=settings.batch_size,
        intake_overlap=timedelta(seconds=settings.intake_overlap_s),
        audit_tolerance_minor=settings.audit_tolerance_minor,
        entities=configured_entities(settings),
    )


def configured_entities(settings: Settings) -> Entities:
    try:
        return load_entities(settings)
    except EntityConfigError as error:
        raise NotConfigured(f"a setting is invalid ({error})") from None


def open_database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, make_session_factory(engine)


def make_crm(settings: Settings) -> SalesforceCrm:
    flow, problems = choose_salesforce_login(settings)
    if problems:
        raise NotConfigured(f"Salesforce is not configured: {'; '.join(problems)}")
    token = settings.salesforce_access_token
    password = settings.salesforce_password
    if login := salesforce_login_flow(settings):
        return SalesforceCrm(
            login=login,
            version=settings.salesforce_api_version,
            ca_bundle=settings.salesforce_ca_bundle,
            timeout=settings.salesforce_timeout_s,
            before_call=maybe_bucket(settings.salesforce_rate_per_s),
        )
    if flow == "token" and token and settings.salesforce_instance_url:
        return SalesforceCrm(
            instance_url=settings.salesforce_instance_url,
            access_token=token.get_secret_value(),
            version=settings.salesforce_api_version,
            ca_bundle=settings.salesforce_ca_bundle,
            timeout=settings.salesforce_timeout_s,
            before_call=maybe_bucket(settings.salesforce_rate_per_s),
        )
    if flow == "password" and settings.salesforce_username and password:
        security = settings.salesforce_security_token
        return SalesforceCrm(
            username=settings.salesforce_username,
            password=password.get_secret_value(),
            security_token=security.get_secret_value() if security else None,
            domain=settings.salesforce_domain,
            version=settings.salesforce_api_version,
            ca_bundle=settings.salesforce_ca_bundle,
            timeout=settings.salesforce_timeout_s,
            before_call=maybe_bucket(settings.salesforce_rate_per_s),
        )
    raise NotConfigured("Salesforce is not configured (SALESFORCE_INSTANCE_URL + token)")


def make_billing(settings: Settings) -> StripeBilling:
    return StripeBilling(**_stripe_options(settings))


def _stripe_options(settings: Settings) -> dict[str, Any]:
    if settings.stripe_api_key is None:
        raise NotConfigured("Stripe is not configured (STRIPE_API_KEY)")
    key = settings.stripe_api_key.get_secret_value()
    # Unless set explicitly, the documented limit of the key's mode (test 25/s, live 100/s).
    rate = (settings.stripe_rate_per_s if "stripe_rate_per_s" in settings.model_fields_set
            else stripe_default_rate(key))
    return {"api_key": key, "api_base": settings.stripe_api_base,
            "timeout": settings.stripe_timeout_s, "before_call": maybe_bucket(rate)}


def make_payouts(settings: Settings) -> StripePayouts:
    """Stripe's payouts, read for bank matching and `/payout`, with the billing key and limit."""
    return StripePayouts(**_stripe_options(settings))


def make_ledger(settings: Settings, sessions: sessionmaker[Session]) -> Ledger:
    """The embedded ledger, posting in the functional currency when one is set."""
    return Ledger(sessions, functional_currency=settings.functional_currency)


E = TypeVar("E", NetSuiteErp, IntacctErp)


def make_erp(settings: Settings, sessions: sessionmaker[Session]) -> Erp:
    if settings.erp == "ledger":
        return LedgerErp(make_ledger(settings, sessions),
                         recognize_on_delivery=settings.recognize_on_delivery)
    if settings.erp == "intacct":
        return _with_subledger(make_intacct(settings, sessions), settings, sessions)
    if missing := settings.missing_netsuite():
        raise NotConfigured(f"NetSuite is not configured ({', '.join(missing)})")
    assert settings.netsuite_consumer_secret and settings.netsuite_token_secret
    netsuite = NetSuiteErp(
        account_id=str(settings.netsuite_account_id),
        consumer_key=str(settings.netsuite_consumer_key),
        consumer_secret=settings.netsuite_consumer_secret.get_secret_value(),
        token_id=str(settings.netsuite_token_id),
        token_secret=settings.netsuite_token_secret.get_secret_value(),
        base_url=settings.netsuite_base_url,
        ca_bundle=settings.netsuite_ca_bundle,
        timeout=settings.netsuite_timeout_s,
        concurrency=settings.netsuite_concurrency,
        setup=NetSuiteSetup(
            subsidiary=settings.netsuite_subsidiary, department=settings.netsuite_department,
            class_=settings.netsuite_class, location=settings.netsuite_location,
            income_account=settings.netsuite_income_account,
            tax_code=settings.netsuite_tax_code),
    )
    if settings.functional_currency:
        # The subsidiary's base currency is the functional one: each foreign-currency invoice
        # and payment carries closebot's rate for its day (docs/fx.md).
        netsuite.exchange_rate = fx_rates.reader(sessions, settings.functional_currency)
    return _with_subledger(instrument(netsuite, "netsuite"), settings, sessions)


def _with_subledger(erp: E, settings: Settings, sessions: sessionmaker[Session]) -> E:
    """NetSuite and Sage Intacct get closebot's revenue schedules beside them (the embedded
    ledger's tables), which month-end close posts from."""
    erp.subledger = RevenueSubledger(Ledger(sessions),
                                     recognize_on_delivery=settings.recognize_on_delivery,
                                     journal_of=make_revenue_journal)
    return erp


def make_intacct(settings: Settings, sessions: sessionmaker[Session] | None = None
                 ) -> IntacctErp:
    if missing := settings.missing_intacct():
        raise NotConfigured(f"Sage Intacct is not configured ({', '.join(missing)})")
    assert settings.intacct_client_secret
    intacct = IntacctErp(
        client_id=str(settings.intacct_client_id),
        client_secret=settings.intacct_client_secret.get_secret_value(),
        username=str(settings.intacct_username),
        base_url=settings.intacct_base_url,
        ca_bundle=settings.intacct_ca_bundle,
        timeout=settings.intacct_timeout_s,
        concurrency=settings.intacct_concurrency,
        accounts=GlAccounts(
            deferred_revenue=settings.intacct_deferred_revenue_account,
            sales_tax=settings.intacct_sales_tax_account,
            bad_debt=settings.intacct_bad_debt_account,
            credits_allowances=settings.intacct_credits_allowances_account,
            undeposited_funds=settings.intacct_undeposited_funds_account,
            customer_advances=settings.intacct_customer_advances_account),
    )
    if settings.functional_currency and sessions is not None:
        # The entity's base currency is the functional one: each foreign-currency invoice and
        # payment carries closebot's rate for its day (docs/fx.md).
        intacct.base_currency = settings.functional_currency
        intacct.exchange_rate = fx_rates.reader(sessions, settings.functional_currency)
    return instrument(intacct, "intacct")


def make_cash(
    settings: Settings, erp: Erp, sessions: sessionmaker[Session] | None = None
) -> CashPorts | None:
    """Cash reconciliation, on whichever ERP closebot posts to, when Stripe is configured: the
    company's own Stripe account (an entity with its own account has its cash apart,
    `make_entity_cash`)."""
    if settings.stripe_api_key is None:
        return None
    own = _own_cash_entities(settings)
    scope = Scope(frozenset({NO_ENTITY, *(e.name for e in configured_entities(settings).entities
                                          if e.name not in own)}), entities_of) if own else None
    books = _cash_books(settings, erp, scope=scope)
    if books is None:
        return None
    reads = StripeCash(api_key=settings.stripe_api_key.get_secret_value(),
                       api_base=settings.stripe_api_base, timeout=settings.stripe_timeout_s,
                       known=KnownPayments(sessions) if sessions is not None else None)
    return CashPorts(reads=instrument(reads, "stripe"), erp=books)


def _own_cash_entities(settings: Settings) -> set[str]:
    return {e.name for e in configured_entities(settings).entities
            if e.stripe_account or e.stripe_api_key_env}


def _cash_books(settings: Settings, erp: Erp, *, entity: str | None = None,
                scope: Scope | None = None) -> CashErp | None:
    ledger = getattr(erp, "ledger", None)
    if isinstance(ledger, Ledger):
        return LedgerCash(ledger, entity=entity, scope=scope)
    if isinstance(erp, NetSuiteErp):
        return NetSuiteCash(erp, {**DEFAULT_ACCOUNTS, **settings.netsuite_cash_accounts})
    if isinstance(erp, IntacctErp):
        return IntacctCash(erp, cash_accounts(erp.accounts, settings.intacct_cash_accounts),
                           journal=settings.intacct_cash_journal)
    return None


def make_entity_cash(settings: Settings, erp: Erp, entity_erp: dict[str, Erp]
                     ) -> dict[str, CashPorts]:
    """Each legal entity's own Stripe account's cash (its Connect account through the platform's
    key, or its own key), booked to its place in the ERP: its NetSuite subsidiary, its Sage
    Intacct entity, or its books on the embedded ledger (docs/entities.md)."""
    if settings.stripe_api_key is None:
        return {}
    cash: dict[str, CashPorts] = {}
    for entity in configured_entities(settings).entities:
        options = _entity_stripe(settings, entity)
        if options is None:
            continue
        books = _cash_books(settings, entity_erp.get(entity.name, erp), entity=entity.name,
                            scope=Scope(frozenset({entity.name}), entities_of))
        if books is None:
            continue
        reads = StripeCash(**options)
        cash[entity.name] = CashPorts(reads=instrument(reads, "stripe"), erp=books)
    return cash


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_runtime(settings: Settings, sessions: sessionmaker[Session]) -> Runtime:
    erp = make_erp(settings, sessions)
    entity_erp = make_entity_erp(settings, erp)
    return Runtime(
        config=engine_config(settings),
        sessions=sessions,
        crm=instrument(make_crm(settings), "salesforce"),
        billing=instrument(make_billing(settings), "stripe"),
        erp=erp,
        worker_id=worker_id(),
        cash=make_cash(settings, erp, sessions),
        entity_billing=make_entity_billing(settings),
        entity_erp=entity_erp,
        entity_cash=make_entity_cash(settings, erp, entity_erp),
    )


def make_revenue_journal(erp: Erp) -> RevenueJournal | None:
    """Where month-end close posts revenue when the ERP keeps no closebot schedules itself."""
    if isinstance(erp, NetSuiteErp):
        return NetSuiteRevenueJournal(erp)
    if isinstance(erp, IntacctErp):
        return IntacctRevenueJournal(erp)
    return None


def make_period_closes(settings: Settings, sessions: sessionmaker[Session],
                       erp: Erp | None = None) -> PeriodCloses | None:
    """The month-end close the Slack card runs: the ledger's own, or on NetSuite and Sage
    Intacct the revenue subledger's posted as journal entries (None: the ERP is not configured,
    so there is nothing to close into)."""
    if settings.erp == "ledger":
        return make_ledger(settings, sessions)
    try:
        journal = make_revenue_journal(erp or make_erp(settings, sessions))
    except NotConfigured:
        return None
    if journal is None:
        return None
    return ErpPeriodCloses(sessions, journal, max_lines=settings.revenue_journal_max_lines)


def make_entity_erp(settings: Settings, erp: Erp) -> dict[str, Erp]:
    """Each legal entity's view of the one ERP account, sharing its connection and concurrency
    limit: on NetSuite its subsidiary on every customer, order and invoice; on Sage Intacct its
    entity (`X-IA-API-Param-Entity`) on every request."""
    views: dict[str, Erp] = {}
    for entity in configured_entities(settings).entities:
        if isinstance(erp, NetSuiteErp) and entity.netsuite_subsidiary:
            view = copy.copy(erp)
            view.setup = dataclasses.replace(erp.setup, subsidiary=entity.netsuite_subsidiary)
            views[entity.name] = view
        elif isinstance(erp, IntacctErp) and entity.intacct_entity:
            intacct = copy.copy(erp)
            intacct.entity = entity.intacct_entity
            # Its own request path (the copy's, which sends the header), timed like the rest.
            vars(intacct).pop("_call", None)
            views[entity.name] = instrument(intacct, "intacct")
    return views


def make_entity_billing(settings: Settings) -> dict[str, Billing]:
    """Each legal entity's own Stripe account: its Connect account through the platform's key
    (and its rate limit), or its own key (with its own limit); docs/entities.md."""
    billing: dict[str, Billing] = {}
    for entity in configured_entities(settings).entities:
        options = _entity_stripe(settings, entity)
        if options is not None:
            billing[entity.name] = instrument(StripeBilling(**options), "stripe")
    return billing


def _entity_stripe(settings: Settings, entity: Entity) -> dict[str, Any] | None:
    """How the entity's own Stripe account is reached; None when it bills in the company's."""
    if entity.stripe_account:
        return {**_stripe_options(settings), "stripe_account": entity.stripe_account}
    if entity.stripe_api_key_env:
        key = os.environ.get(entity.stripe_api_key_env, "").strip()
        if not key:
            raise NotConfigured(f"Stripe is not configured for {entity.name} "
                                f"({entity.stripe_api_key_env})")
        return {**_stripe_options(settings), "api_key": key,
                "before_call": maybe_bucket(stripe_default_rate(key))}
    return None
