"""The simple-salesforce client for closebot's current Salesforce session, and its renewal.

With a login flow (JWT bearer or refresh token) the first call logs in, and a call answered with
INVALID_SESSION_ID logs in once more and is repeated (`SalesforceCrm._call`). Threads share one
session: a thread whose session ended renews it only if no other thread has done so since, so
a burst of failing calls makes one login, not one each.

Without a flow (a bare access token, or username and password, which simple-salesforce renews
by itself) the client is fixed and an ended session is for a person to fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests
from simple_salesforce import Salesforce

from sync.connectors.salesforce_oauth import LoginFlow

Connect = Callable[[str, str], Salesforce]  # (instance URL, access token) -> client


class SessionKeeper:
    def __init__(
        self,
        *,
        http: requests.Session,
        connect: Connect,
        flow: LoginFlow | None = None,
        fixed: Salesforce | None = None,
    ) -> None:
        if (flow is None) == (fixed is None):
            raise ValueError("a session keeper needs a login flow or a fixed client")
        self._http = http
        self._connect = connect
        self._flow = flow
        self._client = fixed
        self._lock = threading.Lock()

    @property
    def renewable(self) -> bool:
        return self._flow is not None

    def client(self) -> Salesforce:
        with self._lock:
            if self._client is None:
                self._client = self._login()
            return self._client

    def renew(self, ended: Salesforce) -> Salesforce:
        """A client on a new session in place of `ended`, unless another thread already
        replaced it."""
        with self._lock:
            if self._client is None or self._client is ended:
                self._client = None  # a failed login leaves no half-dead client behind
                self._client = self._login()
            return self._client

    def _login(self) -> Salesforce:
        assert self._flow is not None
        session = self._flow.login(self._http)
        return self._connect(session.instance_url, session.access_token)
