"""`NetSuiteEmulator`: the account, its HTTPS endpoint, its TBA credentials and direct accessors."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from sandbox.metering import CallMeter
from sandbox.netsuite import schema
from sandbox.netsuite.app import NetSuiteApp
from sandbox.netsuite.gate import ConcurrencyGate
from sandbox.netsuite.oauth import Credentials, TokenAuth
from sandbox.netsuite.render import Renderer
from sandbox.netsuite.store import Store
from sandbox.netsuite.wire import dumps
from sandbox.server import HttpsEndpoint


class NetSuiteEmulator(HttpsEndpoint, CallMeter):
    """A NetSuite account's REST web services (record service and SuiteQL) over HTTPS.

    Clients sign every request with OAuth 1.0a TBA (HMAC-SHA256, realm = `account_id`) using the
    consumer and token credentials generated here. The account starts with six currencies
    (1 USD, 2 GBP, 3 CAD, 4 EUR, 5 AUD, 6 JPY). `records` and `get` read the store directly and
    are not API calls: they neither count in `calls` nor take a concurrency slot.

    A request over `concurrency_limit` is refused before anything else happens: with HTTP 429
    CONCURRENCY_LIMIT_EXCEEDED, or with `limit_refusal="SSS"` as RESTlet-style integrations see
    it, HTTP 400 SSS_REQUEST_LIMIT_EXCEEDED. With `one_world` the account is a OneWorld one
    (see `oneworld`): a customer without a subsidiary, or a currency its subsidiary does not
    allow, is refused.
    """

    def __init__(
        self, *, account_id: str = "1234567_SB1", concurrency_limit: int = 5, port: int = 0,
        limit_refusal: str = "429", one_world: bool = False,
        integration_limit: int | None = None,
    ) -> None:
        HttpsEndpoint.__init__(self, port=port)
        CallMeter.__init__(self)
        self.account_id = account_id
        self.consumer_key = secrets.token_hex(32)
        self.consumer_secret = secrets.token_hex(32)
        self.token_id = secrets.token_hex(32)
        self.token_secret = secrets.token_hex(32)
        self.store = Store()
        self.store.one_world = one_world
        self.gate = ConcurrencyGate(concurrency_limit)
        self.limit_refusal = limit_refusal
        self.integration_limit = integration_limit
        self.auth = TokenAuth(Credentials(account_id, self.consumer_key, self.consumer_secret,
                                          self.token_id, self.token_secret))

    # -- lifecycle -----------------------------------------------------------------------------

    def wsgi_app(self) -> NetSuiteApp:
        return NetSuiteApp(self)

    def env(self) -> dict[str, str]:
        """The settings a NetSuite client needs to talk to this emulator."""
        return {
            "NETSUITE_ACCOUNT_ID": self.account_id,
            "NETSUITE_BASE_URL": self.url,
            "NETSUITE_CONSUMER_KEY": self.consumer_key,
            "NETSUITE_CONSUMER_SECRET": self.consumer_secret,
            "NETSUITE_TOKEN_ID": self.token_id,
            "NETSUITE_TOKEN_SECRET": self.token_secret,
            "NETSUITE_CA_BUNDLE": str(self.ca_bundle),
        }

    def governance_limits(self) -> dict[str, Any]:
        """`GET /services/rest/system/v1/governanceLimits`: the account's concurrency limit, what
        is left unallocated, and this integration's own limit when one is allocated to it."""
        limit = self.gate.limit
        allocated = self.integration_limit or 0
        body: dict[str, Any] = {"accountConcurrencyLimit": limit,
                                "unallocatedConcurrencyLimit": max(1, limit - allocated)}
        if self.integration_limit:
            body |= {"integrationConcurrencyLimit": self.integration_limit,
                     "limitType": "integrationSpecific"}
        else:
            body["limitType"] = "unallocated"
        return body

    # -- direct access (no API call) -----------------------------------------------------------

    def close_period(self, period: str) -> None:
        """Close an accounting period ("2026-11") as a controller would in NetSuite: nothing
        dated in it posts any more."""
        with self.store.lock:
            self.store.closed_periods.add(period)

    def records(self, record_type: str) -> list[dict[str, Any]]:
        """Every record of a type, sublists expanded, as a client decoding the API's JSON with
        `parse_float=Decimal` would see them."""
        rtype = self._type(record_type)
        with self.store.lock:
            renderer = self._renderer()
            rendered = [renderer.record(rtype, r, expand=True) for r in self.store.all(rtype)]
        return [_as_client_sees(r) for r in rendered]

    def get(self, record_type: str, internal_id: str) -> dict[str, Any] | None:
        rtype = self._type(record_type)
        with self.store.lock:
            record = self.store.get(rtype, str(internal_id))
            if record is None:
                return None
            rendered = self._renderer().record(rtype, record, expand=True)
        return _as_client_sees(rendered)

    def _type(self, name: str) -> schema.RecordType:
        rtype = schema.record_type(name)
        if rtype is None:
            raise KeyError(f"unknown NetSuite record type {name!r}")
        return rtype

    def _renderer(self) -> Renderer:
        # Links name the served URL; before start() they are relative to the account root.
        return Renderer(self.store, self._served.url if self._served is not None else "")


def _as_client_sees(rendered: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(dumps(rendered), parse_float=Decimal)
    return result
