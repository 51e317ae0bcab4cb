"""Salesforce through simple-salesforce: incremental intake and batched write-backs.

Quirks worth knowing:
- simple-salesforce always speaks HTTPS to the instance, and requests lets REQUESTS_CA_BUNDLE
  override a session's CA bundle; `PinnedCASession` keeps the configured bundle in force.
- Numbers are parsed as Decimal (`parse_float=Decimal`), never float.
- Query pages hold up to 2,000 records; sObject Collections take up to 200 records a call.
- Every value placed in SOQL goes through `format_soql`, which escapes quotes and backslashes.
- With a login flow (`sync.connectors.salesforce_oauth`) a call answered INVALID_SESSION_ID logs
  in again once and is repeated; a second refusal is a PermanentError, not a loop.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from sync.connectors.salesforce_oauth import LoginFlow
from sync.connectors.salesforce_session import SessionKeeper
from sync.connectors.tls import PinnedCASession
from sync.errors import CredentialsRefused, PermanentError, TransientError
from sync.money import MoneyError, to_minor
from sync.ports import CrmAccount, CrmDealView, CrmUpdate, DealRecord, WriteResult

DEAL_FIELDS = (
    "Id", "Name", "AccountId", "Account.Name", "Account.Billing_Email__c",
    "Account.Stripe_Customer_Id__c", "Account.ERP_Customer_Id__c", "Owner.Email", "Amount",
    "CurrencyIsoCode", "StageName", "IsWon", "CloseDate", "Type", "Contract_Start_Date__c",
    "Contract_End_Date__c", "Renewal_Of__c", "Billing_Cadence__c", "Payment_Terms__c",
    "Product_Line__c", "Requires_Approval__c", "Cancellation_Date__c", "SystemModstamp",
    "Billing_Entity__c", "Account.BillingCountry",
)
LINE_FIELDS = (
    "Id", "Product2Id", "Product2.Name", "Product2.ProductCode", "Quantity", "UnitPrice",
    "ListPrice", "TotalPrice", "Discount", "ServiceDate", "Service_End_Date__c", "Billing_Type__c",
    "Product2.SSP__c", "Product2.SSP_High__c", "Delivered_On__c", "Milestones__c",
)
COLLECTION_LIMIT = 200
SYSTEM = "salesforce"
STATIC_SESSION_ENDED = (
    "Salesforce ended closebot's session (expired or revoked) and closebot cannot log in again "
    "on its own: set up the JWT bearer or refresh-token flow (docs/salesforce-auth.md), or set "
    "a new SALESFORCE_ACCESS_TOKEN"
)
FRESH_SESSION_REFUSED = (
    "Salesforce refused a session it had just issued: check that the integration user is active "
    "and its profile or a permission set grants API Enabled"
)
# What the audit compares: the deal's terms and closebot's own write-back fields.
AUDIT_IDS = {"stripe_customer": "Stripe_Customer_Id__c",
             "stripe_subscription": "Stripe_Subscription_Id__c",
             "erp_sales_order": "ERP_Sales_Order_Id__c"}
AUDIT_FIELDS = ("Id", "Name", "AccountId", "Amount", "CurrencyIsoCode", "Contract_End_Date__c",
                *AUDIT_IDS.values(), "Invoice_Number__c", "Invoice_Status__c",
                "Outstanding_Balance__c", "Sync_Status__c", "SystemModstamp")


class _SessionEnded(Exception):
    """A call answered 401 INVALID_SESSION_ID; `_call` decides whether to log in again."""


def intake_soql(since: datetime | None, ids: Sequence[str] = ()) -> str:
    lines = f"(SELECT {', '.join(LINE_FIELDS)} FROM OpportunityLineItems ORDER BY Id)"
    # A deal closebot wrote back to (its Sync Status set) is read on when it is reopened too.
    where = "(IsWon = true OR Sync_Status__c != null)"
    if since is not None:
        where += " AND SystemModstamp >= " + since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if ids:
        where += format_soql(" AND Id IN {}", list(ids))
    return (
        f"SELECT {', '.join(DEAL_FIELDS)}, {lines} FROM Opportunity WHERE {where} "
        "ORDER BY SystemModstamp ASC, Id ASC"
    )


def parse_sf_datetime(value: str) -> datetime:
    """`2026-01-15T10:00:00.000+0000` (Salesforce's format) → an aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Parent relationships become dotted keys (`Account.Name`); child lists are dropped."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" in value:
            continue
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class SalesforceCrm:
    name = SYSTEM

    def __init__(
        self,
        *,
        instance_url: str | None = None,
        access_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        domain: str = "login",
        version: str = "59.0",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        before_call: Callable[[], None] | None = None,
        login: LoginFlow | None = None,
    ) -> None:
        session = PinnedCASession(ca_bundle, timeout=timeout)
        common: dict[str, Any] = {
            "version": version,
            "session": session,
            "parse_float": Decimal,
            "object_pairs_hook": dict,
        }

        def connect(url: str, token: str) -> Salesforce:
            return Salesforce(instance_url=url, session_id=token, **common)

        if login is not None:
            # The first call logs in: building closebot's runtime touches no network.
            self._keeper = SessionKeeper(http=session, connect=connect, flow=login)
        elif access_token:
            self._keeper = SessionKeeper(
                http=session, connect=connect, fixed=connect(str(instance_url), access_token))
        else:
            fixed = Salesforce(
                username=username, password=password, security_token=security_token,
                domain=domain, **common,
            )
            self._keeper = SessionKeeper(http=session, connect=connect, fixed=fixed)
        self._ended_reason = STATIC_SESSION_ENDED if access_token else FRESH_SESSION_REFUSED
        self.calls: Counter[str] = Counter()
        self._before_call = before_call

    @property
    def sf(self) -> Salesforce:
        """The client on the current session (logging in first if there is none yet)."""
        return self._keeper.client()

    def closed_won_since(self, since: datetime | None) -> Iterator[list[DealRecord]]:
        result = self._call("query", "query", intake_soql(since))
        while True:
            records = result.get("records") or []
            if records:
                yield [self._deal(r) for r in records]
            if result.get("done", True):
                return
            result = self._call(
                "queryMore", "query_more", result["nextRecordsUrl"], identifier_is_url=True
            )

    def closed_won(self, opportunity_ids: Sequence[str]) -> list[DealRecord]:
        if not opportunity_ids:
            return []
        return [deal for page in self._pages(intake_soql(None, opportunity_ids))
                for deal in (self._deal(r) for r in page)]

    def accounts(self) -> Iterator[list[CrmAccount]]:
        soql = "SELECT Id, Name, Billing_Email__c FROM Account ORDER BY Id"
        for page in self._pages(soql):
            yield [CrmAccount(id=str(r["Id"]), name=str(r.get("Name") or ""),
                              email=r.get("Billing_Email__c") or None) for r in page]

    def _pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        result = self._call("query", "query", soql)
        while True:
            records = result.get("records") or []
            if records:
                yield records
            if result.get("done", True):
                return
            result = self._call(
                "queryMore", "query_more", result["nextRecordsUrl"], identifier_is_url=True
            )

    def find_opportunities(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        # `{:like}` escapes quotes, backslashes, `%` and `_` inside the quotes we write.
        soql = format_soql(
            "SELECT Id, Name, AccountId, Account.Name FROM Opportunity "
            "WHERE Name LIKE '%{:like}%' ORDER BY Name LIMIT {}",
            name, limit,
        )
        result = self._call("query", "query", soql)
        return [flatten(r) for r in result.get("records") or []]

    def write_back(self, updates: Sequence[CrmUpdate]) -> list[WriteResult]:
        records: list[dict[str, Any]] = []
        accounts: dict[str, dict[str, Any]] = {}
        for update in updates:
            records.append(_record("Opportunity", update.opportunity_id, update.fields))
            if update.account_id and update.account_fields:
                accounts.setdefault(update.account_id, {}).update(update.account_fields)
        records += [_record("Account", aid, f) for aid, f in accounts.items()]
        results: list[WriteResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start : start + COLLECTION_LIMIT]
            response = self._call(
                "composite.update", "restful", "composite/sobjects", method="PATCH",
                data=json_body({"allOrNone": False, "records": chunk}),
            )
            for record, outcome in zip(chunk, response, strict=True):
                errors = outcome.get("errors") or []
                message = "; ".join(
                    f"{e.get('statusCode')}: {e.get('message')}" for e in errors
                ) or None
                results.append(
                    WriteResult(record_id=record["Id"], ok=bool(outcome.get("success")),
                                error=message)
                )
        return [r for r in results if r.record_id in {u.opportunity_id for u in updates}]

    def query_all(self, kind: str, soql: str) -> list[dict[str, Any]]:
        """Every record a query returns, all pages (for reads such as the audit's)."""
        return list(self._call(kind, "query_all", soql).get("records") or [])

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's fields as this user sees them (`sobjects/{name}/describe`)."""
        return self._call("describe", "restful", f"sobjects/{sobject}/describe")

    def won_deals(self) -> list[CrmDealView]:
        """Every closed-won opportunity, in pages of up to 2,000, for the audit."""
        soql = f"SELECT {', '.join(AUDIT_FIELDS)} FROM Opportunity WHERE IsWon = true ORDER BY Id"
        result = self._call("query", "query", soql)
        views = [_view(r) for r in result.get("records") or []]
        while not result.get("done", True):
            result = self._call(
                "queryMore", "query_more", result["nextRecordsUrl"], identifier_is_url=True
            )
            views += [_view(r) for r in result.get("records") or []]
        return views

    def _deal(self, record: dict[str, Any]) -> DealRecord:
        children = record.get("OpportunityLineItems") or {}
        lines = [flatten(line) for line in children.get("records") or []]
        fields = flatten(record)
        return DealRecord(
            opportunity_id=str(record["Id"]),
            modstamp=parse_sf_datetime(str(record["SystemModstamp"])),
            fields=fields,
            lines=lines,
        )

    def _call(self, kind: str, operation: str, /, *args: Any, **kwargs: Any) -> Any:
        """`operation` (a simple-salesforce client method) on a live session: an ended one is
        renewed once when a login flow is configured, then the call is made again."""
        client = self._keeper.client()
        try:
            return self._invoke(client, kind, operation, args, kwargs)
        except _SessionEnded as ended:
            if not self._keeper.renewable:
                raise CredentialsRefused(self._ended_reason, system=SYSTEM,
                                     detail=str(ended)) from None
        client = self._keeper.renew(client)
        try:
            return self._invoke(client, kind, operation, args, kwargs)
        except _SessionEnded as ended:
            raise CredentialsRefused(FRESH_SESSION_REFUSED, system=SYSTEM,
                                    detail=str(ended)) from None

    def _invoke(self, client: Salesforce, kind: str, operation: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
        if self._before_call is not None:
            self._before_call()
        self.calls[kind] += 1
        try:
            return getattr(client, operation)(*args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientError(
                "Salesforce could not be reached", system=SYSTEM, detail=repr(error)
            ) from error
        except SalesforceExpiredSession as error:
            raise _SessionEnded(_detail(error)) from error
        except SalesforceRefusedRequest as error:
            if "REQUEST_LIMIT_EXCEEDED" in str(error.content):
                raise TransientError(
                    "Salesforce's daily API limit is used up", system=SYSTEM,
                    detail=_detail(error), retry_after=3600,
                ) from error
            raise PermanentError(
                "Salesforce refused the request", system=SYSTEM, detail=_detail(error)
            ) from error
        except SalesforceGeneralError as error:
            if error.status >= 500 or error.status == 429:
                raise TransientError(
                    f"Salesforce is unavailable (HTTP {error.status})", system=SYSTEM,
                    detail=_detail(error),
                ) from error
            raise PermanentError(
                f"Salesforce error (HTTP {error.status})", system=SYSTEM, detail=_detail(error)
            ) from error
        except SalesforceError as error:
            raise PermanentError(
                f"Salesforce rejected the request: {_detail(error)}", system=SYSTEM,
                detail=_detail(error),
            ) from error


def _view(record: dict[str, Any]) -> CrmDealView:
    currency = str(record.get("CurrencyIsoCode") or "").upper() or None
    end = record.get("Contract_End_Date__c")
    try:
        end_date = date.fromisoformat(str(end)) if end else None
    except ValueError:
        end_date = None
    return CrmDealView(
        opportunity_id=str(record["Id"]), name=str(record.get("Name") or ""),
        account_id=record.get("AccountId"), currency=currency,
        amount_minor=_minor(record.get("Amount"), currency), contract_end=end_date,
        ids={role: record.get(field) or None for role, field in AUDIT_IDS.items()},
        invoice_number=record.get("Invoice_Number__c") or None,
        invoice_status=record.get("Invoice_Status__c") or None,
        outstanding_minor=_minor(record.get("Outstanding_Balance__c"), currency),
        sync_status=record.get("Sync_Status__c") or None,
        modified_at=parse_sf_datetime(str(record["SystemModstamp"]))
        if record.get("SystemModstamp") else None,
    )


def _minor(value: Any, currency: str | None) -> int | None:
    if value is None or value == "" or not currency:
        return None
    try:
        return to_minor(Decimal(str(value)), currency)
    except (ArithmeticError, MoneyError, ValueError):
        return None


def _record(sobject: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    body = {k: _wire(v) for k, v in fields.items()}
    return {"attributes": {"type": sobject}, "Id": record_id, **body}


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, date):
        return value.isoformat()
    return value


_DECIMAL_MARK = "\u0000decimal:"
_DECIMAL_TOKEN = re.compile(r'"\\u0000decimal:(-?[0-9.]+)"')


def json_body(payload: Any) -> str:
    """JSON with Decimal amounts written as exact JSON numbers (the json module can't)."""

    def encode(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{_DECIMAL_MARK}{value:f}"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return _DECIMAL_TOKEN.sub(r"\1", json.dumps(payload, default=encode))


def _detail(error: SalesforceError) -> str:
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return "; ".join(f"{c.get('errorCode')}: {c.get('message')}" for c in content)
    return str(content)[:500]
