"""Account-level surface: the balance (`GET /v1/balance`) and restricted API keys.

The balance sums the account's balance transactions by currency and status, as Stripe reports
`available` and `pending` funds; an account without any shows zero in USD.

A restricted key (`rk_test_…`) grants each resource None, Read or Write; a GET needs Read, a POST
or DELETE needs Write, and Write implies Read. A request outside the key's permissions is a 403
`invalid_request_error` naming the permission that would allow it (`rak_credit_note_read`),
which stripe-python raises as `PermissionError`.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.balance import totals
from sandbox.stripe.state import State
from sandbox.stripe.wire import StripeError

ACCOUNT_ID = "acct_1CloseBotSandbox"
# Endpoints whose permission is named after another resource.
_RESOURCE = {"subscription_items": "subscription", "invoiceitems": "invoice",
             "invoice_payments": "invoice", "balance_transactions": "balance",
             "payment_methods": "payment_method", "webhook_endpoints": "webhook"}


def balance(st: State, params: dict[str, Any]) -> dict[str, Any]:
    sums = totals(st)

    def funds(status: str) -> list[dict[str, Any]]:
        found = sums[status] or {"usd": 0}
        return [{"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in sorted(found.items())]

    return {"object": "balance", "available": funds("available"), "pending": funds("pending"),
            "livemode": False}


def resource_of(route_path: str) -> str:
    """`/v1/credit_notes/:id/lines` → `credit_note`; `/v1/balance` → `balance`."""
    segment = route_path.split("/")[2]
    return _RESOURCE.get(segment, segment.removesuffix("s") if segment != "balance" else segment)


class RestrictedKeys:
    def __init__(self) -> None:
        self._keys: dict[str, dict[str, str]] = {}

    def add(self, key: str, permissions: dict[str, str]) -> None:
        if not key.startswith("rk_test_"):
            raise ValueError("a sandbox restricted key starts with rk_test_")
        if set(permissions.values()) - {"read", "write"}:
            raise ValueError("each permission is read or write")
        self._keys[key] = dict(permissions)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def check(self, key: str, method: str, route_path: str, masked: str) -> None:
        granted = self._keys.get(key)
        if granted is None:
            return  # the account's secret key may do everything
        resource = resource_of(route_path)
        needed = "read" if method == "GET" else "write"
        have = granted.get(resource)
        if have == "write" or have == needed:
            return
        raise StripeError(
            403, f"The provided key '{masked}' does not have the required permissions for this "
            f"endpoint on account '{ACCOUNT_ID}'. Having the 'rak_{resource}_{needed}' "
            "permission would allow this request to continue.")
