"""Sage Intacct's transport: one httpx client with an OAuth 2.0 bearer token (client
credentials grant for the Web Services user, refreshed with its refresh token when Sage says the
token is no longer valid), one call (`_call`, the choke point telemetry wraps), the query service
with its pages, and Sage's errors turned into transient or permanent ones in plain words."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from sync.connectors.exact_json import dumps, loads
from sync.dates import Seconds
from sync.errors import CredentialsRefused, PermanentError, TransientError

SYSTEM = "intacct"
DEFAULT_BASE_URL = "https://api.intacct.com/ia/api/v1"
QUERY = "/services/core/query"
PAGE = 4000  # the query service's largest page
ENTITY_HEADER = "X-IA-API-Param-Entity"


class IntacctTransport:
    def __init__(self, *, client_id: str, client_secret: str, username: str,
                 base_url: str | None = None, ca_bundle: str | None = None,
                 timeout: Seconds = 30.0, concurrency: int = 5) -> None:
        self.http = httpx.Client(
            base_url=(base_url or DEFAULT_BASE_URL).rstrip("/"),
            verify=ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True,
            timeout=timeout, headers={"Accept": "application/json"})
        self._client = {"client_id": client_id, "client_secret": client_secret}
        self.username = username
        self.calls = 0
        self.created = 0  # records created: the floor of `calls`
        # The company's concurrency limit (its performance tier) is shared; stay under our share.
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self.concurrency = max(1, concurrency)
        self._counting = threading.Lock()  # posts run several requests at once
        self._token_lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        # A legal entity of a multi-entity company: every request acts in it (None: top level).
        self.entity: str | None = None

    # --- OAuth 2.0 ---------------------------------------------------------------------------

    def _token(self, stale: str | None = None) -> str:
        """The bearer token; a new one when `stale` (the one Sage refused) is still current."""
        with self._token_lock:
            if self._access is None or self._access == stale:
                grant = ({"grant_type": "refresh_token", "refresh_token": self._refresh}
                         if self._refresh and stale else
                         {"grant_type": "client_credentials", "username": self.username})
                answer = self._grant(grant)
                if answer is None and grant["grant_type"] == "refresh_token":
                    answer = self._grant({"grant_type": "client_credentials",
                                          "username": self.username})
                if answer is None:
                    raise CredentialsRefused(
                        "Sage Intacct refused closebot's OAuth client: check INTACCT_CLIENT_ID, "
                        "INTACCT_CLIENT_SECRET and INTACCT_USERNAME (user@company), and that the "
                        "company authorized the client's sender ID", system=SYSTEM)
                self._access, self._refresh = answer["access_token"], answer.get("refresh_token")
            return self._access

    def _grant(self, grant: dict[str, Any]) -> dict[str, Any] | None:
        with self._counting:
            self.calls += 1
        try:
            response = self.http.post("/oauth2/token", data={**grant, **self._client})
        except httpx.TransportError as error:
            raise TransientError("Sage Intacct could not be reached", system=SYSTEM,
                                 detail=type(error).__name__) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"Sage Intacct's token service is unavailable (HTTP "
                                 f"{response.status_code})", system=SYSTEM)
        return loads(response.content) if response.status_code == 200 else None

    # --- calls -------------------------------------------------------------------------------

    def _call(self, kind: str, method: str, path: str, *, body: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        """One API request (the choke point telemetry wraps); a refused token is renewed once."""
        token = self._token()
        for attempt in (1, 2):
            with self._counting:
                self.calls += 1
            with self._slots:
                try:
                    response = self.http.request(
                        method, path, content=dumps(body) if body is not None else None,
                        headers={"Authorization": f"Bearer {token}",
                                 **({"Content-Type": "application/json"} if body else {}),
                                 **({ENTITY_HEADER: self.entity} if self.entity else {})})
                except httpx.TransportError as error:
                    raise TransientError("Sage Intacct could not be reached", system=SYSTEM,
                                         detail=f"{type(error).__name__}: {error}") from error
            if response.status_code == 401 and attempt == 1:
                token = self._token(stale=token)
                continue
            if response.status_code < 300:
                result: dict[str, Any] = loads(response.content)
                return result
            raise _error(response)
        raise AssertionError("unreachable")

    def _create(self, obj: str, body: dict[str, Any]) -> str:
        """Create a record; its key (what other records refer to it by)."""
        key = str(self._call(f"create {obj}", "POST", f"/objects/{obj}", body=body)
                  ["ia::result"]["key"])
        with self._counting:
            self.created += 1
        return key

    def _update(self, obj: str, key: str, body: dict[str, Any]) -> None:
        """PATCH a record: the fields given change, lines without a `key` are added."""
        self._call(f"update {obj}", "PATCH", f"/objects/{obj}/{key}", body=body)

    def _get(self, obj: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(f"get {obj}", "GET", f"/objects/{obj}/{key}")[
            "ia::result"]
        return result

    def _find(self, obj: str, reference: str) -> str | None:
        """The key of the record created under this reference number, if any."""
        rows = self._query_page(obj, ["key"], [{"$eq": {"referenceNumber": reference}}], 1, 1)
        return str(rows["ia::result"][0]["key"]) if rows["ia::result"] else None

    def query(self, obj: str, fields: list[str], filters: list[dict[str, Any]] | None = None
              ) -> Iterator[dict[str, Any]]:
        """Every row matching, page by page, oldest first."""
        start: int | None = 1
        while start is not None:
            page = self._query_page(obj, fields, filters or [], start, PAGE)
            yield from page["ia::result"]
            start = page["ia::meta"].get("next")

    def _query_page(self, obj: str, fields: list[str], filters: list[dict[str, Any]],
                    start: int, size: int) -> dict[str, Any]:
        return self._call(f"query {obj}", "POST", QUERY, body={
            "object": obj, "fields": fields, "filters": filters,
            "orderBy": [{"key": "asc"}], "start": start, "size": size})


def _error(response: httpx.Response) -> Exception:
    status = response.status_code
    try:
        error = (loads(response.content).get("ia::result") or {}).get("ia::error") or {}
    except (ValueError, AttributeError):
        error = {}
    code, message = error.get("code") or f"HTTP {status}", error.get("message") or ""
    detail = f"{code} {error.get('errorId', '')}: {message or response.reason_phrase}"[:1000]
    if status == 429:
        retry = response.headers.get("Retry-After")
        return TransientError("Sage Intacct is over its request limit", system=SYSTEM,
                              detail=detail, retry_after=Seconds(retry) if retry else None)
    if status >= 500:
        return TransientError(f"Sage Intacct is unavailable (HTTP {status})", system=SYSTEM,
                              detail=detail)
    if status == 401:
        return CredentialsRefused("Sage Intacct refused closebot's access token twice; check the "
                                  "OAuth client's authorization for this company",
                                  system=SYSTEM, detail=detail)
    return PermanentError(f"Sage Intacct rejected the record: {message or code}", system=SYSTEM,
                          detail=detail)
