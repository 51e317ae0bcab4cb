"""OAuth 1.0a request signing (HMAC-SHA256), as NetSuite's token-based authentication wants it.

Each request gets a fresh nonce and timestamp; the signature covers the method, the URL and its
query parameters (a JSON body is not part of it).
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client


class TokenAuth(httpx.Auth):
    def __init__(self, *, realm: str, consumer_key: str, consumer_secret: str, token_id: str,
                 token_secret: str) -> None:
        self._args = {
            "client_key": consumer_key, "client_secret": consumer_secret,
            "resource_owner_key": token_id, "resource_owner_secret": token_secret,
            "signature_method": SIGNATURE_HMAC_SHA256, "realm": realm,
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = Client(**self._args).sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request
