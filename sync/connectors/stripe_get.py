"""Stripe GETs for the cash run's large pages: one HTTP request, its body decoded once.

stripe-python decodes every response body into OrderedDicts and formats the whole body for its
debug log whether or not anyone listens; on a page of 100 balance transactions with their
sources expanded that was most of closebot's CPU per transaction. A read needs neither, so the
pages are fetched here, with the same key, API version and bracketed query encoding the SDK
sends, and decoded once with orjson. Failures are turned into closebot's errors the way
`StripeTransport._call` turns the SDK's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import stripe

from sync.dates import Seconds
from sync.errors import CredentialsRefused, PermanentError, TransientError

SYSTEM = "stripe"


class StripeGet:
    def __init__(self, *, api_key: str, api_base: str | None, timeout: float,
                 stripe_account: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}", "Stripe-Version": stripe.api_version,
                   "User-Agent": f"closebot (stripe-python {stripe.VERSION})"}
        if stripe_account:  # a legal entity's Connect account, read under the platform's key
            headers["Stripe-Account"] = stripe_account
        self._http = httpx.Client(base_url=api_base or stripe.DEFAULT_API_BASE, timeout=timeout,
                                  headers=headers)

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.get(path, params=list(encode(params)))
        except httpx.HTTPError as error:
            raise TransientError("Stripe could not be reached", system=SYSTEM,
                                 detail=f"{type(error).__name__}: {error}"[:1000]) from error
        if response.status_code == 200:
            try:
                found: dict[str, Any] = orjson.loads(response.content)
                return found
            except orjson.JSONDecodeError:
                raise TransientError("Stripe answered with a damaged response", system=SYSTEM,
                                     detail=response.text[:1000]) from None
        raise _failure(response)


def encode(params: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Stripe's bracketed query: `created[gte]=…`, `expand[0]=…`, as stripe-python writes it."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            yield from encode(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield from encode(item, f"{name}[{i}]")
                else:
                    yield f"{name}[{i}]", _scalar(item)
        else:
            yield name, _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _failure(response: httpx.Response) -> Exception:
    status = response.status_code
    try:
        err = orjson.loads(response.content).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        err = {}
    detail = f"{err.get('type') or status}/{err.get('code')}: {err.get('message')}"[:1000]
    if status == 429:
        after = response.headers.get("Retry-After")
        return TransientError("Stripe is rate limiting closebot", system=SYSTEM, detail=detail,
                              retry_after=_seconds(after))
    if status >= 500:  # as the SDK's APIError
        return TransientError("Stripe could not be reached", system=SYSTEM, detail=detail)
    if status == 409:
        return TransientError(f"Stripe is unavailable (HTTP {status})", system=SYSTEM,
                              detail=detail)
    if status == 401:
        return CredentialsRefused("Stripe refused the API key", system=SYSTEM, detail=detail)
    message = err.get("message") or f"HTTP {status}"
    return PermanentError(f"Stripe rejected the request: {message}", system=SYSTEM,
                          detail=detail)


def _seconds(value: str | None) -> Seconds | None:
    try:
        return Seconds(value) if value is not None else None
    except ValueError:
        return None
