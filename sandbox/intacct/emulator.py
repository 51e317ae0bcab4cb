"""`IntacctEmulator`: a Sage Intacct company behind its REST API, over HTTPS on 127.0.0.1."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from sandbox.intacct import ledger, render
from sandbox.intacct.app import IntacctApp
from sandbox.intacct.oauth import Client, Tokens
from sandbox.intacct.store import Store
from sandbox.metering import CallMeter
from sandbox.netsuite.gate import ConcurrencyGate
from sandbox.server import HttpsEndpoint


class IntacctEmulator(HttpsEndpoint, CallMeter):
    """A company (`company_id`) whose Web Services user `closebot` an OAuth client (id and
    secret generated here) acts for. `concurrency_limit` requests may be in flight at once, as
    the company's performance tier allows; more are answered 429. `records` and `get` read the
    store directly: they are not API calls and count nowhere."""

    def __init__(self, *, company_id: str = "CLOSEBOT-DEMO", concurrency_limit: int = 5,
                 token_ttl: int = 3600, port: int = 0) -> None:
        HttpsEndpoint.__init__(self, port=port)
        CallMeter.__init__(self)
        self.company_id = company_id
        self.client = Client(secrets.token_hex(16), secrets.token_hex(32),
                             f"closebot@{company_id}")
        self.tokens = Tokens(self.client, ttl=token_ttl)
        self.store = Store()
        self.gate = ConcurrencyGate(concurrency_limit)
        # A multi-entity company: requests naming an entity (`X-IA-API-Param-Entity`) act in
        # it, and what they create belongs to it; a request naming none acts at the top level.
        self.entities: set[str] = {"US-E", "UK-E"}

    def wsgi_app(self) -> IntacctApp:
        return IntacctApp(self)

    def env(self) -> dict[str, str]:
        """The settings a client needs to talk to this emulator."""
        return {
            "INTACCT_BASE_URL": self.url + "/ia/api/v1",
            "INTACCT_CLIENT_ID": self.client.client_id,
            "INTACCT_CLIENT_SECRET": self.client.client_secret,
            "INTACCT_USERNAME": self.client.username,
            "INTACCT_CA_BUNDLE": str(self.ca_bundle),
        }

    def close_period(self, period: str) -> None:
        """Close an accounting period ("2026-11") as a controller would in Sage Intacct: nothing
        dated in it posts any more."""
        with self.store.lock:
            self.store.closed_periods.add(period)

    def records(self, obj: str) -> list[dict[str, Any]]:
        """Every record of an object, as `GET /objects/{obj}/{key}` would show it."""
        with self.store.lock:
            return [render.record(self.store, obj, row) for row in self.store.rows[obj].values()]

    def get(self, obj: str, key: str) -> dict[str, Any] | None:
        with self.store.lock:
            row = self.store.rows[obj].get(str(key))
            return None if row is None else render.record(self.store, obj, row)

    def gl_balances(self, currency: str = "USD") -> dict[str, Decimal]:
        """Each GL account's balance, debit positive, as the company's trial balance shows it."""
        return ledger.balances(self.store, currency)
