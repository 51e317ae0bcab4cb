"""`closebot doctor` for Stripe: the key's kind and mode, proven by a call, and that it may read
what closebot reads (customers, subscriptions, invoices, credit notes, events).

The mode comes from the key's prefix (`sk_test_`, `rk_live_`, …) and is confirmed by the
balance, which Stripe answers with `livemode`. Permissions are checked with one-record list
calls: a restricted key without a permission gets a 403 naming it. Nothing is written; the
key is never printed.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from sync.connectors.stripe_billing import StripeBilling
from sync.ports import Check

SYSTEM = "Stripe"
KEY_PAGE = "Stripe Dashboard → Developers → API keys"
KINDS = {"sk": "secret key", "rk": "restricted key"}
READS = (("customers", "/v1/customers", "Customers"),
         ("subscriptions", "/v1/subscriptions", "Subscriptions"),
         ("invoices", "/v1/invoices", "Invoices"),
         ("credit notes", "/v1/credit_notes", "Credit notes"),
         ("events", "/v1/events", "Events"))


def key_kind(key: str) -> tuple[str, str] | None:
    """(`secret key` | `restricted key`, `test` | `live`) from the prefix; None if neither."""
    prefix, _, rest = key.partition("_")
    mode = rest.partition("_")[0]
    if prefix not in KINDS or mode not in ("test", "live"):
        return None
    return KINDS[prefix], mode


def _get(billing: StripeBilling, path: str, params: dict[str, Any]) -> dict[str, Any]:
    response = billing.client.raw_request("get", path, **params)
    return dict(json.loads(response.body))


def diagnose(billing: StripeBilling, key: str) -> list[Check]:
    kind = key_kind(key)
    if kind is None:
        return [Check(SYSTEM, False, "STRIPE_API_KEY is not a secret or restricted key",
                      f"copy a secret key (sk_…) or a restricted key (rk_…) from {KEY_PAGE}; a "
                      "publishable key (pk_…) can't bill")]
    name, mode = kind
    checks: list[Check] = []
    try:
        balance = _get(billing, "/v1/balance", {})
        live = bool(balance.get("livemode"))
        if live != (mode == "live"):
            return [Check(SYSTEM, False, f"the {mode}-mode {name} answered in "
                                         f"{'live' if live else 'test'} mode",
                          f"use a key of the mode you mean from {KEY_PAGE}")]
        checks.append(Check(SYSTEM, True, f"{mode}-mode {name}, accepted by Stripe (the "
                                          f"account's balance reads as {mode} mode)"))
    except stripe.AuthenticationError:
        return [Check(SYSTEM, False, "Stripe refused STRIPE_API_KEY (an invalid API key)",
                      f"copy a secret key (sk_…) or a restricted key (rk_…) from the {KEY_PAGE}")]
    except stripe.PermissionError:
        checks.append(Check(SYSTEM, True, f"{mode}-mode {name}, accepted by Stripe (it may not "
                                          "read the balance, so the mode is the key's prefix)"))
    except stripe.StripeError as error:
        return [Check(SYSTEM, False, f"Stripe could not be asked: {error.user_message or error}",
                      "check STRIPE_API_BASE (unset for the real Stripe) and the network")]
    refused = []
    for label, path, setting in READS:
        try:
            _get(billing, path, {"limit": 1})
        except stripe.PermissionError:
            refused.append(Check(SYSTEM, False, f"the key may not read {label}",
                                 f"give the restricted key Read or Write on {setting}: "
                                 f"{KEY_PAGE} → the key → Edit"))
    if refused:
        return checks + refused
    names = [label for label, _, _ in READS]
    return [*checks, Check(SYSTEM, True,
                           f"the key can read {', '.join(names[:-1])} and {names[-1]}")]
