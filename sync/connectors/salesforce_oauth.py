"""Logging in to Salesforce with a connected app: the OAuth 2.0 JWT bearer and refresh-token flows.

Both post a form to `<login URL>/services/oauth2/token` and get back `access_token` and
`instance_url` (the org's My Domain, where the API calls go). Salesforce never says when an
access token will end (no `expires_in`), so closebot logs in again when a call answers
INVALID_SESSION_ID (`sync.connectors.salesforce_session`).

- JWT bearer: an RS256 assertion signed with the private key whose certificate is uploaded to the
  connected app: `iss` the consumer key, `sub` the integration user's username, `aud` the login
  URL, `exp` at most three minutes ahead. No secret travels; nothing to renew by hand.
- Refresh token: `grant_type=refresh_token` with the consumer key and secret. The answer is signed
  (`signature` = base64 HMAC-SHA256 of `id + issued_at` keyed with the consumer secret), which is
  checked; with refresh-token rotation on, the new token that comes back replaces the old one.

A refusal becomes a PermanentError whose reason names the setting to fix; neither reasons nor
details ever carry the key, an assertion, a token or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from sync.errors import PermanentError, TransientError

SYSTEM = "salesforce"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 180  # Salesforce wants `exp` within three minutes
REVOKED = ("Salesforce refused the refresh token (revoked or expired): create a new one for the "
           "connected app and set SALESFORCE_REFRESH_TOKEN")
UNKNOWN_CLIENT = ("Salesforce does not know the consumer key in SALESFORCE_CLIENT_ID: copy it "
                  "from the connected app (Manage Consumer Details)")


@dataclass(frozen=True)
class SalesforceSession:
    access_token: str
    instance_url: str


class LoginFlow(Protocol):
    name: str

    def login(self, http: requests.Session) -> SalesforceSession: ...


def load_private_key(path: Path) -> RSAPrivateKey:
    """The RSA key in `path`, or a PermanentError saying what is wrong with the file."""
    where = f"SALESFORCE_JWT_KEY_FILE ({path})"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PermanentError(f"closebot cannot read the private key in {where}: "
                             f"{error.strerror or 'unreadable'}", system=SYSTEM) from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        raise PermanentError(f"{where} does not hold an unencrypted RSA private key in PEM "
                             "format (the key of the certificate uploaded to the connected app)",
                             system=SYSTEM)
    return key


class JwtBearerFlow:
    name = "JWT bearer"

    def __init__(self, *, client_id: str, username: str, key_file: Path, login_url: str) -> None:
        self.client_id = client_id
        self.username = username
        self.key_file = key_file
        self.login_url = login_url.rstrip("/")

    def login(self, http: requests.Session) -> SalesforceSession:
        # The key is read at each login, so replacing the file needs no restart.
        key = load_private_key(self.key_file)
        claims = {"iss": self.client_id, "sub": self.username, "aud": self.login_url,
                  "exp": int(time.time()) + ASSERTION_LIFETIME_S}
        assertion = jwt.encode(claims, key, algorithm="RS256")
        body = post_token(http, self.login_url, {"grant_type": JWT_BEARER,
                                                 "assertion": assertion}, self.refusal)
        return SalesforceSession(str(body["access_token"]), str(body["instance_url"]))

    def refusal(self, error: str, description: str) -> str:
        lead = "Salesforce refused closebot's signed login"
        if error == "invalid_client_id":
            return UNKNOWN_CLIENT
        if description == "invalid assertion":
            return (f"{lead}: the private key in SALESFORCE_JWT_KEY_FILE ({self.key_file}) does "
                    "not match the certificate uploaded to the connected app; upload the "
                    "matching certificate or point SALESFORCE_JWT_KEY_FILE at the right key")
        if description == "user hasn't approved this consumer":
            return (f"{lead} for {self.username}: no active user has that username, or the "
                    "user is not pre-authorized for the connected app; check "
                    "SALESFORCE_USERNAME, and in the app's policies choose \"Admin approved "
                    "users are pre-authorized\" and add the user's profile or permission set")
        if description == "audience is invalid":
            return (f"{lead}: SALESFORCE_LOGIN_URL ({self.login_url}) must be "
                    "https://login.salesforce.com for production or https://test.salesforce.com "
                    "for a sandbox")
        if description == "expired authorization code":
            return (f"{lead} as already expired: this machine's clock is off; synchronise it "
                    "(NTP)")
        return f"{lead} ({error}: {description})"


class RefreshTokenFlow:
    name = "refresh token"

    def __init__(self, *, client_id: str, client_secret: str | None, refresh_token: str,
                 login_url: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.login_url = login_url.rstrip("/")

    def login(self, http: requests.Session) -> SalesforceSession:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token,
                "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        body = post_token(http, self.login_url, form, self.refusal)
        if self.client_secret and "signature" in body and not _signed(body, self.client_secret):
            raise PermanentError(
                "The answer to closebot's login failed its signature check: make sure "
                f"SALESFORCE_LOGIN_URL ({self.login_url}) is Salesforce's", system=SYSTEM)
        if body.get("refresh_token"):
            # Rotation: the token just used is dead; keep its heir for the next login.
            self.refresh_token = str(body["refresh_token"])
        return SalesforceSession(str(body["access_token"]), str(body["instance_url"]))

    def refusal(self, error: str, description: str) -> str:
        if error == "invalid_client_id":
            return UNKNOWN_CLIENT
        if error == "invalid_grant" and description == "expired access/refresh token":
            return REVOKED
        if error == "invalid_client":
            if not self.client_secret:
                return ("The connected app requires its consumer secret for refresh tokens: "
                        "set SALESFORCE_CLIENT_SECRET")
            return ("Salesforce refused SALESFORCE_CLIENT_SECRET: it is not the consumer secret "
                    "of the connected app in SALESFORCE_CLIENT_ID")
        return f"Salesforce refused the refresh token ({error}: {description})"


def _signed(body: dict[str, Any], secret: str) -> bool:
    mac = hmac.new(secret.encode(), f"{body.get('id')}{body.get('issued_at')}".encode(),
                   hashlib.sha256).digest()
    try:
        given = base64.b64decode(str(body["signature"]), validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(mac, given)


def post_token(http: requests.Session, login_url: str, form: dict[str, str],
               refusal: Any) -> dict[str, Any]:
    """POST the grant; the answer's body, or the error `refusal(error, description)` words."""
    try:
        response = http.post(f"{login_url}/services/oauth2/token", data=form,
                             headers={"Accept": "application/json"})
    except (requests.ConnectionError, requests.Timeout) as error:
        # The exception names the URL, never the form it carried.
        raise TransientError("Salesforce's login server could not be reached", system=SYSTEM,
                             detail=type(error).__name__) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientError(f"Salesforce's login server is unavailable (HTTP {status})",
                             system=SYSTEM)
    try:
        body = response.json()
    except ValueError:
        body = None
    if status == 200 and isinstance(body, dict) and body.get("access_token"):
        return body
    answer = body if isinstance(body, dict) else {}
    error = str(answer.get("error") or f"HTTP {status}")
    description = str(answer.get("error_description") or "no description")
    raise PermanentError(refusal(error, description), system=SYSTEM,
                         detail=f"{error}: {description}")
