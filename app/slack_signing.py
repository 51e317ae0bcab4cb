"""Slack's request signatures in HTTP mode, refused cleanly when malformed.

Bolt's own `RequestVerification` trusts the header shapes: a non-numeric
`X-Slack-Request-Timestamp` makes `int()` raise, a non-ASCII `X-Slack-Signature` makes
`hmac.compare_digest` raise, and either became a logged crash answered 200 "Something went
wrong". Anyone can send those headers, so they get Slack's 401 like any other bad signature.
Socket Mode requests arrive over an authenticated socket and carry no signature; they pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from app.wiring import NotConfigured

log = logging.getLogger("closebot.slack")
MAX_TIMESTAMP_DIGITS = 12  # seconds since 1970 have 10 digits until the year 2286
MISSING = ("SLACK_SIGNING_SECRET is not set: the HTTP front verifies every request from Slack "
           "with it (Slack app → Basic Information → Signing Secret). Set it, or set "
           "SLACK_APP_TOKEN to use Socket Mode.")


def signing_secret_needed(*, socket_mode: bool, secret: str | None) -> None:
    """HTTP mode without a signing secret would accept (or crash on) every request: refuse."""
    if not socket_mode and not (secret or "").strip():
        raise NotConfigured(MISSING)


def _one(headers: dict[str, Sequence[str]], name: str) -> str | None:
    values = headers.get(name) or []
    return values[0] if len(values) == 1 else None


def well_formed(timestamp: str | None, signature: str | None) -> bool:
    """Shapes the verifier can check: a decimal timestamp and an ASCII signature."""
    return (timestamp is not None and signature is not None
            and timestamp.isascii() and timestamp.isdigit()
            and len(timestamp) <= MAX_TIMESTAMP_DIGITS and signature.isascii())


class SignedRequests(RequestVerification):
    """Bolt's verification, preceded by a check of the two headers' shapes."""

    def __init__(self, signing_secret: str, base_logger: logging.Logger | None = None) -> None:
        signing_secret_needed(socket_mode=False, secret=signing_secret)
        super().__init__(signing_secret, base_logger=base_logger)

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse:
        if self._can_skip(req.mode, req.body):
            return next()
        timestamp = _one(req.headers, "x-slack-request-timestamp")
        signature = _one(req.headers, "x-slack-signature")
        if not well_formed(timestamp, signature):
            log.warning("refused a Slack request: missing or malformed signature headers")
            return self._build_error_response()
        return super().process(req=req, resp=resp, next=next)
