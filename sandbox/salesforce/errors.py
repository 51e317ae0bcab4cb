"""The one error type the emulator raises, shaped like a Salesforce REST error body."""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


class SalesforceError(Exception):
    """A failure Salesforce reports as `[{"message", "errorCode", "fields"?}]` with an HTTP status.

    Save-time errors (the ones sObject collections report per record) carry `fields`; query and
    routing errors don't, and Salesforce leaves the key out for them.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def collection_error(self) -> dict[str, Any]:
        """The per-record shape used inside sObject collection results."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def not_found() -> SalesforceError:
    return SalesforceError("NOT_FOUND", NOT_FOUND_MESSAGE, status=404)
