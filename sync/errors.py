"""Typed failures. Connectors translate vendor errors into these; the engine decides from the type
alone whether to retry (transient) or to open an exception for a person (permanent)."""

from __future__ import annotations

from sync.dates import Seconds


class SyncError(Exception):
    """Base for failures of an external effect. `reason` is written for finance readers."""

    def __init__(self, reason: str, *, system: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.system = system
        self.detail = detail


class TransientError(SyncError):
    """Timeouts, connection errors, 429 and 5xx: try again later, honouring `retry_after`."""

    def __init__(
        self,
        reason: str,
        *,
        system: str,
        detail: str | None = None,
        retry_after: Seconds | None = None,
    ) -> None:
        super().__init__(reason, system=system, detail=detail)
        self.retry_after = retry_after


class PermanentError(SyncError):
    """The request itself is wrong (4xx, business rule): retrying can't help; a person must act."""


class WebhookRejected(ValueError):
    """A webhook delivery that is unsigned, stale or malformed: answered 400, never applied."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CredentialsRefused(PermanentError):
    """The system refused closebot's credentials: nothing in that system can succeed until a
    person fixes a setting, so a run reports it as a whole, not only per deal."""
