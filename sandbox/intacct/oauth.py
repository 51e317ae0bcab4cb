"""OAuth 2.0 as Sage Intacct's REST API documents it: `POST /ia/api/v1/oauth2/token` with the
client credentials grant (client id and secret plus `username`, the Web Services user as
`user@companyId`) or a refresh token; the answer is a bearer access token with `expires_in`
seconds and a refresh token. Errors at the token endpoint are RFC 6749's
(`{"error": "invalid_client", "error_description": …}`); a bad or expired bearer token on any
other request is Sage's `tokenInvalid` (REST-2102)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.intacct.errors import token_invalid


class TokenRefused(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status = status
        self.payload = {"error": error, "error_description": description}


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    username: str  # user@companyId


class Tokens:
    """Issued access and refresh tokens; `ttl` seconds of life for an access token."""

    def __init__(self, client: Client, *, ttl: int = 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._access: dict[str, float] = {}  # token → expires at
        self._refresh: set[str] = set()
        self._lock = threading.Lock()
        self.issued = 0

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        if (form.get("client_id") != self.client.client_id
                or not secrets.compare_digest(form.get("client_secret", ""),
                                              self.client.client_secret)):
            raise TokenRefused("invalid_client", "Client authentication failed", status=401)
        grant = form.get("grant_type")
        with self._lock:
            if grant == "client_credentials":
                if form.get("username") != self.client.username:
                    raise TokenRefused("invalid_grant",
                                       "The user or company is not authorized for this client")
            elif grant == "refresh_token":
                if form.get("refresh_token") not in self._refresh:
                    raise TokenRefused("invalid_grant", "The refresh token is not valid")
                self._refresh.discard(form["refresh_token"])  # each refresh token works once
            else:
                raise TokenRefused("unsupported_grant_type", f"Grant type {grant!r} is not "
                                   "supported; use client_credentials or refresh_token")
            access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            self._access[access] = self.clock() + self.ttl
            self._refresh.add(refresh)
            self.issued += 1
        return {"token_type": "Bearer", "access_token": access, "expires_in": self.ttl,
                "refresh_token": refresh}

    def verify(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            expires = self._access.get(token) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self.clock():
            raise token_invalid()

    def expire_all(self) -> None:
        """Every access token issued so far expires now (a test's way to age them)."""
        with self._lock:
            now = self.clock()
            self._access = {token: now for token in self._access}
