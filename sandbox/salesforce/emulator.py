"""`SalesforceEmulator`: the org, its HTTPS endpoint and the test-facing direct accessors."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from sandbox.salesforce.app import SalesforceApp
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.schema import Schema, SObjectDef
from sandbox.salesforce.store import Store
from sandbox.server import HttpsEndpoint


class SalesforceEmulator(HttpsEndpoint):
    """A Salesforce org over HTTPS that simple-salesforce talks to as if it were the real one.

    The org starts with one active user (the API user, default owner of new records; its id is
    `owner_id`) and the standard price book (`standard_pricebook_id`). `seed`, `update` and
    `get` act directly on the store under the same save rules as the API but are not API
    calls: they neither count in `calls` nor spend the daily budget.
    """

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
             "Email": "integration@closebot.example", "IsActive": True},
        )
        self.store.default_user_id = self.owner_id
        self.standard_pricebook_id = self.store.system_insert(
            self.schema.require("Pricebook2"),
            {"Name": "Standard Price Book", "IsActive": True, "IsStandard": True},
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def wsgi_app(self) -> SalesforceApp:
        return SalesforceApp(self)

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
