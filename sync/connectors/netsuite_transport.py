"""NetSuite's transport: one httpx client signed with OAuth 1.0a token-based auth, one call
(`_call`, the single choke point that telemetry wraps), upserts and reads by external ID, and
NetSuite's errors turned into transient or permanent ones."""

from __future__ import annotations

import random
import re
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from sync.connectors.exact_json import dumps, loads
from sync.connectors.netsuite_setup import NetSuiteSetup, explain
from sync.connectors.oauth1 import TokenAuth
from sync.dates import Seconds
from sync.errors import CredentialsRefused, PermanentError, TransientError

SYSTEM = "netsuite"
RECORDS = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
SUITEQL_PAGE = 1000
# closebot's chart: the Deferred Revenue account invoices bill to and revenue entries release.
DEFERRED_REVENUE = "2100"
# The account the "Bad debt" item books a write-off to, and a void after it takes it back from.
BAD_DEBT_EXPENSE = "6200"
GOVERNANCE = "/services/rest/system/v1/governanceLimits"
_ID_IN_LOCATION = re.compile(r"/([^/]+)$")


def default_base_url(account_id: str) -> str:
    """NetSuite's per-account REST host: `1234567_SB1` → `1234567-sb1.suitetalk.api...`."""
    return f"https://{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


class NetSuiteTransport:
    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        base_url: str | None = None,
        ca_bundle: str | None = None,
        timeout: Seconds = 30.0,
        concurrency: int = 5,
        limit_retries: int = 5,
        backoff: Seconds = 0.25,
        setup: NetSuiteSetup | None = None,
    ) -> None:
        self.account_id = account_id
        self.http = httpx.Client(
            base_url=base_url or default_base_url(account_id),
            verify=ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True,
            timeout=timeout,
            auth=TokenAuth(realm=account_id.upper(), consumer_key=consumer_key,
                           consumer_secret=consumer_secret, token_id=token_id,
                           token_secret=token_secret),
            headers={"Accept": "application/json"},
        )
        self.calls = 0
        self.created = 0  # records written (upserts, transforms): the floor of `calls`
        self._counting = threading.Lock()  # posts run several requests at once
        # The account's concurrency limit is shared by every integration; stay under our share.
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self.concurrency = max(1, concurrency)
        self._governed = threading.Lock()
        self._limit_read = False
        self._limit_retries, self._backoff = limit_retries, backoff
        self.setup = setup or NetSuiteSetup()
        self._currencies: dict[str, str] = {}  # ISO code → NetSuite internal id
        self._items: dict[str, str] = {}  # product name → service item internal id
        self._invoices: dict[str, tuple[str, str]] = {}  # invoice id → (customer id, currency)
        self._order_items: dict[str, list[str]] = {}  # sales order id → item id of each line
        self._accounts: dict[str, str] = {}  # account number → internal id

    def suiteql(self, query: str) -> Iterator[dict[str, str]]:
        offset = 0
        while True:
            page = loads(self._call("suiteql", "POST", SUITEQL,
                                    params={"limit": SUITEQL_PAGE, "offset": offset},
                                    body={"q": query}, headers={"Prefer": "transient"}).content)
            yield from page.get("items") or []
            if not page.get("hasMore"):
                return
            offset += SUITEQL_PAGE

    def account_ids(self) -> dict[str, str]:
        """Account number → internal id, read once."""
        if not self._accounts:
            self._accounts = {str(row["acctnumber"]): str(row["id"])
                              for row in self.suiteql("SELECT id, acctnumber FROM account")}
        return self._accounts

    def _upsert(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        response = self._call(f"upsert {record_type}", "PUT",
                              f"{RECORDS}/{record_type}/eid:{quote(external_id, safe='')}",
                              body=body)
        return self._location(response, record_type)

    def _location(self, response: httpx.Response, record_type: str) -> str:
        match = _ID_IN_LOCATION.search(response.headers.get("Location", ""))
        if match is None:
            raise TransientError(f"NetSuite did not say where the {record_type} is",
                                 system=SYSTEM)
        return match.group(1)

    def _find(self, record_type: str, external_id: str) -> str | None:
        response = self._call(f"find {record_type}", "GET",
                              f"{RECORDS}/{record_type}/eid:{quote(external_id, safe='')}",
                              missing_ok=True)
        return None if response.status_code == 404 else str(loads(response.content)["id"])

    def _get(self, path: str) -> dict[str, Any]:
        kind = f"get {path.partition('/')[0]}"
        return loads(self._call(kind, "GET", f"{RECORDS}/{path}").content)

    def _call(self, kind: str, method: str, path: str, *, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
              missing_ok: bool = False) -> httpx.Response:
        """One HTTP request (the single choke point that telemetry wraps), errors translated."""
        sent = {"Content-Type": "application/json", **(headers or {})} if body else headers
        if not self._limit_read:
            self._read_limit()
        for attempt in range(self._limit_retries + 1):
            with self._counting:
                self.calls += 1
            with self._slots:
                try:
                    response = self.http.request(
                        method, path, params=params, headers=sent,
                        content=dumps(body) if body is not None else None)
                except httpx.TransportError as error:
                    raise TransientError("NetSuite could not be reached", system=SYSTEM,
                                         detail=f"{type(error).__name__}: {error}") from error
            if not over_limit(response) or attempt == self._limit_retries:
                break
            # Refused before NetSuite did anything, so sending it again is safe, writes too;
            # the pause doubles (with jitter) so integrations sharing the account spread out.
            wait = _retry_after(response) or self._backoff * 2 ** attempt
            time.sleep(wait * (0.5 + random.random() / 2))
        if response.status_code < 300 or (missing_ok and response.status_code == 404):
            if method in ("PUT", "POST") and "/query/" not in path and response.status_code < 300:
                with self._counting:
                    self.created += 1
            return response
        raise _error(response)


    def _read_limit(self) -> None:
        """Before the first request: the concurrency NetSuite allows this integration (its own
        limit, else the account's unallocated one), and closebot's share cut to fit it. Only
        an administrator's token may read it; otherwise the configured share stands."""
        with self._governed:
            if self._limit_read:
                return
            try:
                self._cut_share()
            finally:
                # Only now: a request sent while the limit is being read would be one more
                # in flight than the share.
                self._limit_read = True

    def _cut_share(self) -> None:
        with self._counting:
            self.calls += 1
        try:
            response = self.http.get(GOVERNANCE)
            limits = loads(response.content) if response.status_code == 200 else {}
        except (httpx.TransportError, ValueError):
            return
        allowed = limits.get("integrationConcurrencyLimit") or limits.get(
            "unallocatedConcurrencyLimit") or limits.get("accountConcurrencyLimit")
        if isinstance(allowed, int) and 0 < allowed < self.concurrency:
            self.concurrency = allowed
            self._slots = threading.BoundedSemaphore(allowed)


def _error(response: httpx.Response) -> Exception:
    status = response.status_code
    try:
        details = loads(response.content).get("o:errorDetails") or [{}]
    except ValueError:
        details = [{}]
    first = details[0] if isinstance(details[0], dict) else {}
    code = first.get("o:errorCode") or f"HTTP {status}"
    detail = f"{code}: {first.get('detail') or response.reason_phrase}"[:1000]
    if over_limit(response):
        return TransientError("NetSuite is over its concurrency limit", system=SYSTEM,
                              detail=detail, retry_after=_retry_after(response))
    if status >= 500:
        return TransientError(f"NetSuite is unavailable (HTTP {status})", system=SYSTEM,
                              detail=detail)
    if status == 401:
        return CredentialsRefused("NetSuite refused closebot's credentials (token-based auth)",
                                  system=SYSTEM, detail=detail)
    path = first.get("o:errorPath")
    if reason := explain(path, str(first.get("detail") or "")):
        return PermanentError(reason, system=SYSTEM, detail=detail)
    where = f" at {path}" if path else ""
    return PermanentError(f"NetSuite rejected the record{where}: {first.get('detail') or code}",
                          system=SYSTEM, detail=detail)


def over_limit(response: httpx.Response) -> bool:
    """NetSuite refused the request for the account's concurrency limit: HTTP 429, or the 400
    with SSS_REQUEST_LIMIT_EXCEEDED that RESTlet-style governance answers."""
    if response.status_code == 429:
        return True
    return response.status_code == 400 and b"SSS_REQUEST_LIMIT_EXCEEDED" in response.content


def _retry_after(response: httpx.Response) -> Seconds | None:
    try:
        return Seconds(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
