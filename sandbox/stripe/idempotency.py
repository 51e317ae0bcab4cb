"""Idempotency keys on POST and DELETE, as Stripe documents them.

The first response for a key is saved once the endpoint starts executing — successes and errors
alike, 500s included — and replayed verbatim (same status, same body, `Idempotent-Replayed: true`).
Requests that fail parameter validation are not saved, so they can be retried with the same key.
Reusing a key with other parameters or another endpoint is a 400 `idempotency_error`; a request
arriving while the first one with its key is still running gets 409 (stripe-python retries 409).
Keys are scoped to the API key and pruned 24 hours after first use, on the emulator clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.stripe.clock import DAY
from sandbox.stripe.wire import StripeError


@dataclass
class Saved:
    fingerprint: tuple[str, str, str]
    created: int
    request_id: str
    status: int | None = None
    body: bytes | None = None
    done: threading.Event = field(default_factory=threading.Event)


class IdempotencyKeys:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[tuple[str, str], Saved] = {}

    def prune(self, now: int) -> None:
        with self._lock:
            for k in [k for k, v in self._saved.items() if v.created + DAY <= now]:
                del self._saved[k]

    def begin(self, scope: str, key: str, fingerprint: tuple[str, str, str], now: int,
              request_id: str) -> Saved | None:
        """None: go ahead (the key is now in flight). A `Saved`: replay it. Raises on misuse."""
        with self._lock:
            saved = self._saved.get((scope, key))
            if saved is not None and saved.created + DAY <= now:
                saved = None
            if saved is None:
                self._saved[(scope, key)] = Saved(fingerprint, now, request_id)
                return None
        if not saved.done.is_set():
            raise StripeError(
                409, "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still going "
                f"through): {key}. Please try again later.", type="idempotency_error",
                replayable=False)
        if saved.fingerprint[:2] != fingerprint[:2]:
            raise StripeError(
                400, "Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{saved.fingerprint[1]}' vs '{fingerprint[1]}'). Try "
                f"using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error", replayable=False)
        if saved.fingerprint != fingerprint:
            raise StripeError(
                400, "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.", type="idempotency_error", replayable=False)
        return saved

    def finish(self, scope: str, key: str, status: int, body: bytes, *, keep: bool) -> None:
        with self._lock:
            saved = self._saved.get((scope, key))
            if saved is None:
                return
            if keep:
                saved.status, saved.body = status, body
            else:
                del self._saved[(scope, key)]
            saved.done.set()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"keys": len(self._saved)}
