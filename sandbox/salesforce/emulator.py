"""`SalesforceEmulator`: the org, its HTTPS endpoint and the test-facing direct accessors."""

from __future__ import annotations

import secrets
import threading
from typing import Any, Self

from sandbox.salesforce.app import SalesforceApp
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.oauth import ConnectedApp, OAuthServer
from sandbox.salesforce.schema import Schema, SObjectDef
from sandbox.salesforce.store import Store
from sandbox.server import HttpsEndpoint


class SalesforceEmulator(HttpsEndpoint):
    """A Salesforce org over HTTPS that simple-salesforce talks to as if it were the real one.

    The org starts with one active user (the API user, default owner of new records; its id is
    `owner_id`) and the standard price book (`standard_pricebook_id`). `seed`, `update` and
    `get` act directly on the store under the same save rules as the API but are not API
    calls: they neither count in `calls` nor spend the daily budget.

    It is its own login server too (`login_url` is its URL): `add_connected_app` registers a
    connected app (a certificate for the JWT bearer flow, a consumer secret for refresh
    tokens), `issue_refresh_token` stands in for the one-time browser consent,
    `revoke_refresh_token` for an admin's revoke, and `expire_sessions` (or `session_ttl_s`)
    ends access tokens so API calls answer INVALID_SESSION_ID. `token` is a session issued at
    start-up that never expires on its own.
    """

    integration_username = "integration@closebot.example"

    def __init__(
        self,
        *,
        page_size: int = 2000,
        api_version: str = "59.0",
        daily_api_limit: int = 1_000_000,
        token: str | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.page_size = page_size
        self.api_version = api_version
        self.daily_api_limit = daily_api_limit
        self.token = token or "00D8d0000000001!" + secrets.token_urlsafe(40)
        self.schema = Schema()
        self.store = Store(self.schema)
        self.calls: dict[str, int] = {}
        self._used = 0
        self._meter = threading.Lock()
        self.owner_id = self.store.system_insert(
            self.schema.require("User"),
            {"FirstName": "Integration", "LastName": "User", "Name": "Integration User",
             "Email": "integration@closebot.example", "Username": self.integration_username,
             "IsActive": True},
        )
        self.store.default_user_id = self.owner_id
        self.oauth = OAuthServer(find_user=self._active_user)
        self.oauth.add_session(self.token)
        self.standard_pricebook_id = self.store.system_insert(
            self.schema.require("Pricebook2"),
            {"Name": "Standard Price Book", "IsActive": True, "IsStandard": True},
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def wsgi_app(self) -> SalesforceApp:
        return SalesforceApp(self)

    def start(self) -> Self:
        super().start()
        self.oauth.login_url = self.url
        return self

    @property
    def login_url(self) -> str:
        return self.url

    # -- connected apps and sessions (no API call) -------------------------------------------

    def add_connected_app(
        self,
        *,
        certificate_pem: bytes | None = None,
        rotate_refresh_tokens: bool = False,
        require_secret: bool = True,
        preauthorized: set[str] | None = None,
    ) -> ConnectedApp:
        app = ConnectedApp(
            consumer_key="3MVG9" + secrets.token_urlsafe(60).replace("-", "."),
            consumer_secret=secrets.token_hex(32).upper(),
            certificate_pem=certificate_pem,
            rotate_refresh_tokens=rotate_refresh_tokens,
            require_secret=require_secret,
            preauthorized=preauthorized,
        )
        self.oauth.apps[app.consumer_key] = app
        return app

    def issue_refresh_token(self, consumer_key: str, username: str | None = None) -> str:
        user_id = self._active_user(username or self.integration_username)
        if user_id is None:
            raise ValueError(f"no active user {username!r}")
        return self.oauth.issue_refresh_token(consumer_key, user_id)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        self.oauth.revoke(refresh_token)

    def expire_sessions(self) -> None:
        self.oauth.expire_all()

    @property
    def session_ttl_s(self) -> float | None:
        return self.oauth.session_ttl_s

    @session_ttl_s.setter
    def session_ttl_s(self, value: float | None) -> None:
        self.oauth.session_ttl_s = value

    def _active_user(self, username: str) -> str | None:
        with self.store.lock:
            for record in self.store.table("User").values():
                if record.get("Username") == username and record.get("IsActive"):
                    return str(record["Id"])
        return None

    # -- direct access (no API call) ---------------------------------------------------------

    def seed(self, sobject: str, fields: dict[str, Any]) -> str:
        return self.create_record(self.schema.require(sobject), fields)

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.update_record(self.schema.require(sobject), record_id, fields)

    def records(self, sobject: str) -> list[dict[str, Any]]:
        obj = self.schema.require(sobject)
        with self.store.lock:
            return [dict(r) for r in self.store.table(obj.name).values()]

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        obj = self.schema.require(sobject)
        with self.store.lock:
            return dict(self.store.require(obj, record_id))

    def add_field(self, sobject: str, name: str, type: str) -> None:
        self.schema.add_field(sobject, name, type)

    def remove_field(self, sobject: str, name: str) -> None:
        self.schema.remove_field(sobject, name)

    def make_read_only(self, sobject: str, name: str) -> None:
        self.schema.make_read_only(sobject, name)

    def reset_calls(self) -> None:
        with self._meter:
            self.calls.clear()

    # -- used by the app ---------------------------------------------------------------------

    def create_record(self, obj: SObjectDef, body: dict[str, Any]) -> str:
        with self.store.transaction():
            return self.store.insert(obj, self.store.prepare(obj, body))

    def update_record(self, obj: SObjectDef, record_id: str, body: dict[str, Any]) -> None:
        with self.store.transaction():
            self.store.update(obj, record_id, self.store.prepare(obj, body))

    def count(self, kind: str) -> None:
        with self._meter:
            self.calls[kind] = self.calls.get(kind, 0) + 1

    def spend_api_call(self) -> str:
        """Charge one call to the daily budget; returns the Sforce-Limit-Info header value."""
        with self._meter:
            if self._used >= self.daily_api_limit:
                raise SalesforceError(
                    "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", status=403
                )
            self._used += 1
            return f"api-usage={self._used}/{self.daily_api_limit}"

    def api_usage(self) -> tuple[int, int]:
        with self._meter:
            return self._used, self.daily_api_limit
