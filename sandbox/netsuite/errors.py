"""The one error type the emulator raises, shaped like a NetSuite REST web services error body."""

from __future__ import annotations

from typing import Any

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error"
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."

_STATUS = {
    400: ("Bad Request", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"),
    401: ("Unauthorized", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2"),
    404: ("Not Found", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5"),
    405: ("Method Not Allowed", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6"),
    415: ("Unsupported Media Type", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.16"),
    429: ("Too Many Requests", "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"),
    500: ("Internal Server Error", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1"),
}


class NetSuiteError(Exception):
    """A failure NetSuite reports as `{"type", "title", "status", "o:errorDetails": [...]}`.

    `path` becomes `o:errorPath`, the JSON path into the request body that NetSuite names when a
    body value is at fault; query, header and routing errors have none.
    """

    def __init__(self, code: str, detail: str, *, status: int = 400, path: str | None = None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
        self.path = path

    def body(self) -> dict[str, Any]:
        title, kind = _STATUS.get(self.status, _STATUS[400])
        item: dict[str, Any] = {"detail": self.detail}
        if self.path is not None:
            item["o:errorPath"] = self.path
        item["o:errorCode"] = self.code
        return {"type": kind, "title": title, "status": self.status, "o:errorDetails": [item]}


def invalid_content(detail: str, path: str | None = None) -> NetSuiteError:
    return NetSuiteError("INVALID_CONTENT", detail, path=path)


def user_error(detail: str, path: str | None = None) -> NetSuiteError:
    return NetSuiteError("USER_ERROR", detail, path=path)


def invalid_parameter(detail: str) -> NetSuiteError:
    return NetSuiteError("INVALID_PARAMETER", detail)


def nonexistent(detail: str) -> NetSuiteError:
    return NetSuiteError("NONEXISTENT_ID", detail, status=404)


def invalid_login() -> NetSuiteError:
    return NetSuiteError("INVALID_LOGIN", INVALID_LOGIN_DETAIL, status=401)


def throttled() -> NetSuiteError:
    return NetSuiteError("CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL, status=429)


def request_limit() -> NetSuiteError:
    """The refusal RESTlet-style integrations get over the account's limit: a 400 whose code
    says so (SSS_REQUEST_LIMIT_EXCEEDED), not a 429."""
    return NetSuiteError("SSS_REQUEST_LIMIT_EXCEEDED", CONCURRENCY_DETAIL, status=400)


def method_not_allowed(method: str, allowed: list[str]) -> NetSuiteError:
    return NetSuiteError(
        "INVALID_METHOD",
        f"HTTP method {method} is not allowed on this resource. Allowed: {', '.join(allowed)}.",
        status=405,
    )
