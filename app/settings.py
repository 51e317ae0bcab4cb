"""Every setting, read from the environment (and an optional `.env`), never at import time."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.money import is_known_currency

DEFAULT_REQUIRED_FIELDS = (
    "Contract_Start_Date__c",
    "Contract_End_Date__c",
    "Billing_Cadence__c",
    "Payment_Terms__c",
    "Product_Line__c",
    "CurrencyIsoCode",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="")

    database_url: str = Field("sqlite:///closebot.db", validation_alias="DATABASE_URL")

    # Salesforce: a connected app's JWT bearer or refresh-token flow (closebot logs in again by
    # itself, see docs/salesforce-auth.md), else a fixed session (instance URL + access token)
    # or username/password/security token.
    salesforce_client_id: str | None = None  # the connected app's consumer key
    salesforce_client_secret: SecretStr | None = None
    salesforce_refresh_token: SecretStr | None = None
    salesforce_jwt_key_file: str | None = None  # PEM private key of the app's certificate
    salesforce_login_url: str | None = None  # defaults to https://<domain>.salesforce.com
    salesforce_instance_url: str | None = None
    salesforce_access_token: SecretStr | None = None
    salesforce_username: str | None = None
    salesforce_password: SecretStr | None = None
    salesforce_security_token: SecretStr | None = None
    salesforce_domain: str = "login"
    salesforce_api_version: str = "59.0"
    salesforce_ca_bundle: str | None = None

    # Stripe.
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None  # only for a local emulator or a proxy
    stripe_webhook_secret: SecretStr | None = None
    # The platform's Connect endpoint's signing secret: events of the entities' Connect accounts.
    stripe_connect_webhook_secret: SecretStr | None = None
    stripe_rate_per_s: float = 25.0

    # ERP: the embedded ledger by default, or NetSuite (token-based auth).
    erp: str = "ledger"
    netsuite_account_id: str | None = None  # e.g. 1234567 or 1234567_SB1 for a sandbox
    netsuite_consumer_key: str | None = None
    netsuite_consumer_secret: SecretStr | None = None
    netsuite_token_id: str | None = None
    netsuite_token_secret: SecretStr | None = None
    netsuite_base_url: str | None = None  # defaults to the account's suitetalk.api host
    netsuite_ca_bundle: str | None = None
    netsuite_concurrency: int = 5  # closebot's share of the account's concurrency limit
    netsuite_timeout_s: float = 30.0
    # Cash account numbers by role, over the defaults (sync/connectors/netsuite_cash.py), as
    # JSON: {"cash": "1010", "clearing": "1200", "processing_fees": "6110"}.
    netsuite_cash_accounts: dict[str, str] = Field(default_factory=dict)
    # Where closebot's NetSuite records book, by internal ID (docs/netsuite.md).
    netsuite_subsidiary: str | None = None  # required by a OneWorld account
    netsuite_department: str | None = None
    netsuite_class: str | None = None
    netsuite_location: str | None = None
    netsuite_income_account: str | None = None  # on closebot's items
    netsuite_tax_code: str | None = None  # on invoice and order lines
    # Sage Intacct (ERP=intacct): REST API with OAuth 2.0 client credentials.
    intacct_client_id: str | None = None
    intacct_client_secret: SecretStr | None = None
    intacct_username: str | None = None  # the Web Services user, as user@companyId
    intacct_base_url: str | None = None  # defaults to https://api.intacct.com/ia/api/v1
    intacct_ca_bundle: str | None = None
    intacct_concurrency: int = 5  # closebot's share of the company's concurrent requests
    intacct_timeout_s: float = 30.0
    intacct_deferred_revenue_account: str = "2100"  # what invoice lines credit
    intacct_sales_tax_account: str = "2300"
    intacct_bad_debt_account: str = "6200"
    intacct_credits_allowances_account: str = "4900"  # contra revenue
    intacct_undeposited_funds_account: str = "1010"  # where payments land
    intacct_customer_advances_account: str = "2200"  # an overpayment, the customer's advance
    # Cash account numbers by role, over the defaults (sync/connectors/intacct_cash.py), as
    # JSON: {"cash": "1000", "processing_fees": "6110"}; Clearing is the undeposited funds account.
    intacct_cash_accounts: dict[str, str] = Field(default_factory=dict)
    intacct_cash_journal: str = "GJ"  # the GL journal cash entries post to

    # Slack.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None  # only for a local recorder
    slack_alerts_channel: str = "#finance-alerts"
    slack_approvals_channel: str = "#finance-approvals"
    slack_digest_channel: str = "#finance-digest"
    slack_approvers: str = ""  # comma-separated Slack user IDs
    slack_approver_group: str | None = None  # a Slack user group ID
    slack_operators: str = ""  # user IDs who may also retry / dismiss failed syncs
    http_port: int = 3000

    # Policy.
    discount_approval_pct: int = 20
    # Revenue: point-in-time obligations wait for `closebot deliver` (who may: delivery_markers).
    recognize_on_delivery: bool = False
    delivery_markers: str = ""  # comma-separated people (emails) who may mark deliveries
    # Lines per revenue journal entry a close posts to NetSuite or Sage Intacct (Deferred debit
    # included); more obligations than that are split into `-part-2` entries and on.
    revenue_journal_max_lines: int = Field(200, ge=2)
    # The books' currency (ISO 4217): ledger entries also carry it at the transaction day's
    # rate (rates from `closebot fx import`). Unset: entries stay in their own currency only.
    functional_currency: str | None = None
    amendment_approval_pct: int = 10
    max_payment_terms_days: int = 60
    credit_two_approvers_minor: int = 500_000
    approval_reminder_hours: int = 24

    # Engine.
    required_fields: str = ",".join(DEFAULT_REQUIRED_FIELDS)
    intake_interval_s: int = 120
    intake_overlap_s: int = 60
    worker_interval_s: int = 5
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 900.0
    lease_s: int = 300
    batch_size: int = 200
    digest_time: str = "09:00"
    digest_timezone: str = "UTC"

    # Slack surface (see docs/slack.md).
    slack_commands: str = ""  # renames, e.g. "invoice-status=/inv,credit=/cb-credit"
    slack_credit_approvers: str = ""  # comma-separated user IDs; empty → slack_approvers
    slack_credit_approver_group: str | None = None
    slack_close_approvers: str = ""  # comma-separated user IDs; empty → slack_approvers
    month_end_close_card: bool = True  # a two-person close card once a month has ended
    slack_group_alert_min: int = 5  # this many items failing for one cause → one grouped alert
    slack_outbox_interval_s: int = 5
    slack_alerts_interval_s: int = 30
    slack_reminder_interval_s: int = 600
    salesforce_ui_url: str | None = None  # defaults to the instance URL
    stripe_dashboard_url: str = "https://dashboard.stripe.com"
    erp_record_url: str | None = None  # e.g. "https://erp.example.com/invoices/{id}"

    # Operations (see docs/operations.md).
    salesforce_rate_per_s: float = 25.0  # token bucket per process; 0 turns it off
    stripe_timeout_s: float = 30.0
    salesforce_timeout_s: float = 30.0
    events_interval_s: int = 120
    reconcile_interval_s: int = 3600
    reconcile_audit_interval_s: int = 86_400  # the money reconciliation: daily slots from 00:00 UTC
    audit_tolerance_minor: int = 0  # differences the audit accepts, in minor units
    job_lease_s: int = 900  # a scheduled job's cluster-wide lease; expires if a replica dies
    log_json: bool = True

    # Legal entities (docs/entities.md): a JSON list, or the path of a JSON file holding it.
    entities: str = ""
    entities_file: str | None = None

    @field_validator("audit_tolerance_minor")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("AUDIT_TOLERANCE_MINOR can't be negative")
        return value

    @field_validator("functional_currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not is_known_currency(value):
            raise ValueError(f"FUNCTIONAL_CURRENCY “{value}” is not an ISO 4217 currency code")
        return value.upper()

    @field_validator("erp")
    @classmethod
    def _known_erp(cls, value: str) -> str:
        if value not in {"ledger", "netsuite", "intacct"}:
            raise ValueError("ERP must be 'ledger', 'netsuite' or 'intacct'")
        return value

    def missing_netsuite(self) -> list[str]:
        """The NetSuite settings still unset, by their environment names."""
        required = ("netsuite_account_id", "netsuite_consumer_key", "netsuite_consumer_secret",
                    "netsuite_token_id", "netsuite_token_secret")
        return [name.upper() for name in required if not getattr(self, name)]

    def missing_intacct(self) -> list[str]:
        """The Sage Intacct settings still unset, by their environment names."""
        required = ("intacct_client_id", "intacct_client_secret", "intacct_username")
        return [name.upper() for name in required if not getattr(self, name)]

    @cached_property
    def required_field_list(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.required_fields.split(",") if f.strip())

    @cached_property
    def approver_ids(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.slack_approvers.split(",") if u.strip())

    @cached_property
    def delivery_marker_set(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.delivery_markers.split(",") if u.strip())

    @cached_property
    def operator_ids(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.slack_operators.split(",") if u.strip())

    def secrets(self) -> list[str]:
        """Every configured secret value, so logs and messages can be checked for leaks."""
        values = [
            self.salesforce_access_token, self.salesforce_password,
            self.salesforce_security_token, self.salesforce_client_secret,
            self.salesforce_refresh_token, self.stripe_api_key, self.stripe_webhook_secret,
            self.stripe_connect_webhook_secret,
            self.slack_bot_token, self.slack_signing_secret, self.slack_app_token,
        ]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
