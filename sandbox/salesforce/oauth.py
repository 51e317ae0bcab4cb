"""`POST /services/oauth2/token`: the JWT bearer and refresh-token grants, and the sessions they
issue, as Salesforce documents them.

- JWT bearer (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion=<JWT>`): an
  RS256 JWT whose signature verifies against the certificate uploaded to the connected app named
  by `iss` (its consumer key), `aud` the login URL, `sub` an active, pre-authorized user's
  username, `exp` not past (Salesforce allows three minutes of clock skew). The answer carries
  `access_token`, `scope`, `instance_url`, `id` and `token_type`; no refresh token.
- Refresh token (`grant_type=refresh_token`, `refresh_token`, `client_id`, `client_secret`, the
  client credentials in the body or as HTTP Basic): the answer adds `issued_at` (epoch ms) and
  `signature`, base64 HMAC-SHA256 of `id + issued_at` keyed with the consumer secret. With
  rotation on, a new `refresh_token` comes back and the old one stops working.
- Errors are `{"error", "error_description"}` with HTTP 400, e.g. `invalid_grant` /
  `invalid assertion`, `expired authorization code`, `audience is invalid`, `user hasn't
  approved this consumer`, `expired access/refresh token`.

Sessions: every access token is remembered with its user and an optional expiry
(`session_ttl_s` on the emulator clock); `expire_all()` ends every session at once, as a
session timeout or an admin's "revoke" does, so the next API call answers INVALID_SESSION_ID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORG_ID = "00D8d0000000001EAA"
CLOCK_SKEW_S = 180
Answer = tuple[int, dict[str, Any]]


@dataclass
class ConnectedApp:
    consumer_key: str
    consumer_secret: str
    certificate_pem: bytes | None = None
    rotate_refresh_tokens: bool = False
    # "Require Secret for Refresh Token Flow", on by default for new connected apps.
    require_secret: bool = True
    # None: every active user is pre-authorized (Permitted Users: admin approved, all profiles).
    preauthorized: set[str] | None = None
    public_key: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.certificate_pem is not None:
            self.public_key = x509.load_pem_x509_certificate(self.certificate_pem).public_key()


@dataclass
class _Grant:
    consumer_key: str
    user_id: str
    revoked: bool = False


def _error(code: str, description: str, status: int = 400) -> Answer:
    return status, {"error": code, "error_description": description}


class OAuthServer:
    def __init__(self, *, find_user: Callable[[str], str | None],
                 clock: Callable[[], float] = time.time) -> None:
        self.find_user = find_user
        self.clock = clock
        self.login_url = ""  # set once the endpoint listens; also the instance URL
        self.session_ttl_s: float | None = None
        self.apps: dict[str, ConnectedApp] = {}
        self._sessions: dict[str, float | None] = {}  # access token -> expiry (None: none)
        self._grants: dict[str, _Grant] = {}  # refresh token -> its grant
        self._lock = threading.Lock()

    # -- sessions ----------------------------------------------------------------------------

    def add_session(self, token: str, ttl_s: float | None = None) -> None:
        with self._lock:
            self._sessions[token] = None if ttl_s is None else self.clock() + ttl_s

    def valid(self, token: str) -> bool:
        with self._lock:
            if token not in self._sessions:
                return False
            expiry = self._sessions[token]
            return expiry is None or self.clock() < expiry

    def expire_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def issue_refresh_token(self, consumer_key: str, user_id: str) -> str:
        token = "5Aep861" + secrets.token_urlsafe(60)
        with self._lock:
            self._grants[token] = _Grant(consumer_key, user_id)
        return token

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            if refresh_token in self._grants:
                self._grants[refresh_token].revoked = True

    # -- the token endpoint ------------------------------------------------------------------

    def token(self, method: str, form: dict[str, str], basic: tuple[str, str] | None) -> Answer:
        if method != "POST":
            return _error("invalid_request", "must use HTTP POST")
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self._jwt_bearer(form.get("assertion", ""))
        if grant == "refresh_token":
            client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret"))
            return self._refresh(form.get("refresh_token", ""), client_id, secret)
        return _error("unsupported_grant_type", "grant type not supported")

    def _jwt_bearer(self, assertion: str) -> Answer:
        try:
            if jwt.get_unverified_header(assertion).get("alg") != "RS256":
                return _error("invalid_grant", "invalid assertion")
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _error("invalid_grant", "invalid assertion")
        app = self.apps.get(str(unverified.get("iss", "")))
        if app is None:
            return _error("invalid_client_id", "client identifier invalid")
        if app.public_key is None:
            return _error("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                assertion, app.public_key, algorithms=["RS256"], audience=self.login_url,
                leeway=CLOCK_SKEW_S, options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return _error("invalid_grant", "expired authorization code")
        except jwt.InvalidAudienceError:
            return _error("invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return _error("invalid_grant", "invalid assertion")
        username = str(claims["sub"])
        user_id = self.find_user(username)
        allowed = app.preauthorized is None or username in app.preauthorized
        if user_id is None or not allowed:
            return _error("invalid_grant", "user hasn't approved this consumer")
        return 200, self._session_body(user_id, scope="api")

    def _refresh(self, refresh_token: str, client_id: str, secret: str | None) -> Answer:
        app = self.apps.get(client_id)
        if app is None:
            return _error("invalid_client_id", "client identifier invalid")
        if (secret is None and app.require_secret) or (
                secret is not None and not hmac.compare_digest(secret, app.consumer_secret)):
            return _error("invalid_client", "invalid client credentials")
        with self._lock:
            grant = self._grants.get(refresh_token)
            if grant is None or grant.revoked or grant.consumer_key != client_id:
                return _error("invalid_grant", "expired access/refresh token")
            rotated = None
            if app.rotate_refresh_tokens:
                grant.revoked = True
                rotated = "5Aep861" + secrets.token_urlsafe(60)
                self._grants[rotated] = _Grant(client_id, grant.user_id)
        body = self._session_body(grant.user_id, scope="refresh_token api")
        issued_at = str(int(self.clock() * 1000))
        mac = hmac.new(app.consumer_secret.encode(), (body["id"] + issued_at).encode(),
                       hashlib.sha256)
        body.update(issued_at=issued_at, signature=base64.b64encode(mac.digest()).decode())
        if rotated is not None:
            body["refresh_token"] = rotated
        return 200, body

    def _session_body(self, user_id: str, *, scope: str) -> dict[str, Any]:
        token = ORG_ID[:15] + "!" + secrets.token_urlsafe(48)
        self.add_session(token, self.session_ttl_s)
        return {
            "access_token": token,
            "scope": scope,
            "instance_url": self.login_url,
            "id": f"{self.login_url}/id/{ORG_ID}/{user_id}",
            "token_type": "Bearer",
        }
