"""NetSuite Token-Based Authentication: OAuth 1.0a signatures with HMAC-SHA256 (RFC 5849).

The signature base string is rebuilt from the request as received: the method, the base string
URI from `https`, the `Host` header as sent and the raw path, and the query-string parameters with
the `oauth_*` header parameters (never the JSON body, which is not form-encoded). Every failure
is the same INVALID_LOGIN, as NetSuite gives nothing away about which part was wrong.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from oauthlib.oauth1.rfc5849 import signature, utils

from sandbox.netsuite.errors import invalid_login

WINDOW_SECONDS = 300
MAX_NONCES = 100_000
_REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
             "oauth_nonce", "oauth_signature")


@dataclass(frozen=True)
class Credentials:
    account_id: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


class TokenAuth:
    def __init__(self, credentials: Credentials, clock: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        self._clock = clock
        # (consumer key, token, timestamp, nonce) seen recently, oldest first.
        self._nonces: OrderedDict[tuple[str, str, int, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, method: str, host: str, raw_path: str, query: str, header: str) -> None:
        """Return if the request is signed by the account's token; raise INVALID_LOGIN if not."""
        try:
            fields = dict(utils.parse_authorization_header(header))
            params = signature.collect_parameters(
                uri_query=query, headers={"Authorization": header}, with_realm=False
            )
            base_uri = signature.base_string_uri(f"https://{host}{raw_path}")
        except (ValueError, TypeError):
            raise invalid_login() from None
        given = {k: utils.unescape(v) for k, v in fields.items()}
        creds = self.credentials
        if (
            any(not given.get(name) for name in _REQUIRED)
            or given.get("realm") != creds.account_id
            or given["oauth_signature_method"] != "HMAC-SHA256"
            or given.get("oauth_version", "1.0") != "1.0"
            or not _same(given["oauth_consumer_key"], creds.consumer_key)
            or not _same(given["oauth_token"], creds.token_id)
            or not given["oauth_timestamp"].isascii()
            or not given["oauth_timestamp"].isdigit()
        ):
            raise invalid_login()
        stamp = int(given["oauth_timestamp"])
        now = self._clock()
        if abs(now - stamp) > WINDOW_SECONDS:
            raise invalid_login()
        base = signature.signature_base_string(
            method.upper(), base_uri, signature.normalize_parameters(params)
        )
        expected = signature.sign_hmac_sha256_with_client(base, _Secrets(creds))
        if not _same(given["oauth_signature"], expected):
            raise invalid_login()
        self._remember(
            (given["oauth_consumer_key"], given["oauth_token"], stamp, given["oauth_nonce"]),
            now,
        )

    def _remember(self, key: tuple[str, str, int, str], now: float) -> None:
        with self._lock:
            if key in self._nonces:
                raise invalid_login()
            self._nonces[key] = key[2]
            # A nonce whose timestamp has left the window can't be replayed anyway: the
            # timestamp check refuses it first, so forgetting it is safe.
            while self._nonces:
                oldest_key, oldest_stamp = next(iter(self._nonces.items()))
                if len(self._nonces) <= MAX_NONCES and oldest_stamp >= now - WINDOW_SECONDS:
                    break
                del self._nonces[oldest_key]


class _Secrets:
    """The two secrets under the names oauthlib's signing functions read."""

    def __init__(self, credentials: Credentials) -> None:
        self.client_secret = credentials.consumer_secret
        self.resource_owner_secret = credentials.token_secret


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
