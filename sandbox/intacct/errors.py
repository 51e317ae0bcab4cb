"""The one error type the emulator raises, shaped as Sage Intacct's REST API reports failures:
`{"ia::result": {"ia::error": {code, message, errorId, additionalInfo, supportId}},
"ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1}}`."""

from __future__ import annotations

import secrets
from typing import Any


class IntacctError(Exception):
    """A failure with Sage's error code (`invalidRequest`, `notFound`, …) and error id."""

    def __init__(self, code: str, message: str, *, status: int = 400,
                 error_id: str = "REST-1001", field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.error_id = error_id
        self.field = field

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "errorId": self.error_id,
            "additionalInfo": {"messageId": f"IA.{self.code.upper()}", "placeholders": {},
                               "propertySet": {"field": self.field} if self.field else {}},
            "supportId": secrets.token_hex(6),
        }
        return {"ia::result": {"ia::error": error},
                "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1}}


def invalid(message: str, *, field: str | None = None) -> IntacctError:
    return IntacctError("invalidRequest", message, error_id="REST-1064", field=field)


def not_found(message: str) -> IntacctError:
    return IntacctError("notFound", message, status=404, error_id="REST-1028")


def token_invalid() -> IntacctError:
    # What Sage answers for a missing, wrong or expired bearer token.
    return IntacctError("tokenInvalid", "Token is not valid", status=401, error_id="REST-2102")


def too_many_requests() -> IntacctError:
    return IntacctError("tooManyRequests",
                        "The number of concurrent requests for this company exceeds the limit of "
                        "its performance tier; retry later", status=429, error_id="GW-0010")


def method_not_allowed(method: str) -> IntacctError:
    return IntacctError("methodNotAllowed", f"{method} is not supported on this resource",
                        status=405, error_id="REST-1005")
