"""Build Stripe objects from Stripe's published examples (`fixtures.json`, from stripe/openapi).

Every object starts as a deep copy of its resource's example so it carries exactly the fields real
Stripe sends; the example's placeholder values (fake discounts, `obj_123` accounts, huge random
integers) are then reset to what a plain test-mode account returns, and the builder sets the real
values. Code written against these objects therefore reads real Stripe objects too.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from pathlib import Path
from typing import Any

FIXTURES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("fixtures.json")).read_text()
)["resources"]

PREFIXES = {
    "payout": "po", "dispute": "dp",
    "customer": "cus", "product": "prod", "price": "price", "subscription": "sub",
    "subscription_item": "si", "invoice": "in", "line_item": "il", "invoiceitem": "ii",
    "invoice_payment": "inpay", "payment_intent": "pi", "charge": "ch",
    "balance_transaction": "txn", "refund": "re", "credit_note": "cn",
    "credit_note_line_item": "cnli", "customer_balance_transaction": "cbtxn", "event": "evt",
    "webhook_endpoint": "we", "payment_method": "pm", "tax_rate": "txr",
}
_ALPHABET = string.ascii_letters + string.digits


class _Blank:
    """Marker: keep the example's shape but null every leaf (lists become empty)."""


BLANK = _Blank()


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_1{''.join(secrets.choice(_ALPHABET) for _ in range(23))}"


def random_token(n: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return []
    return None


_NULL_ALL = ("application", "customer_account", "test_clock", "on_behalf_of", "default_source")

RESETS: dict[str, dict[str, Any]] = {
    "customer": {
        "address": None, "currency": None, "discount": None, "shipping": None,
        "invoice_settings": BLANK, "preferred_locales": [], "metadata": {},
    },
    "product": {
        "default_price": None, "description": None, "package_dimensions": None, "type": "service",
        "images": [], "marketing_features": [], "shippable": None, "url": None, "unit_label": None,
    },
    "price": {"custom_unit_amount": None, "recurring": None, "transform_quantity": None},
    "subscription": {
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor_config": None, "cancel_at": None, "canceled_at": None,
        "cancellation_details": BLANK, "ended_at": None, "trial_end": None, "trial_start": None,
        "next_pending_invoice_item_invoice": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "transfer_data": None,
        "cancel_at_period_end": False, "billing_thresholds": None,
        "billing_mode": {"type": "classic", "flexible": None}, "managed_payments": None,
        "billing_schedules": [], "application_fee_percent": None,
    },
    "subscription_item": {"billing_thresholds": None},
    "invoice": {
        "account_name": "Closebot Sandbox", "account_tax_ids": None,
        "automatic_tax": {"enabled": False, "liability": None, "status": None,
                          "disabled_reason": None, "provider": None},
        "customer_address": None, "customer_shipping": None, "due_date": None,
        "effective_at": None, "from_invoice": None, "last_finalization_error": None,
        "next_payment_attempt": None, "payment_settings": BLANK, "rendering": None,
        "shipping_cost": None, "shipping_details": None, "status_transitions": BLANK,
        "webhooks_delivered_at": None, "total_pretax_credit_amounts": [], "total_taxes": [],
        "amount_overpaid": 0, "parent": None, "starting_balance": 0,
    },
    "line_item": {"pretax_credit_amounts": [], "taxes": [], "quantity_decimal": None},
    "invoiceitem": {"parent": None, "quantity_decimal": None},
    "payment_intent": {
        "automatic_payment_methods": None, "canceled_at": None, "last_payment_error": None,
        "next_action": None, "payment_method_configuration_details": None, "processing": None,
        "shipping": None, "transfer_data": None, "managed_payments": None,
    },
    "charge": {
        "billing_details": BLANK, "outcome": BLANK, "fraud_details": {}, "receipt_url": None,
        "shipping": None, "source": None, "transfer_data": None, "source_transfer": None,
    },
    "credit_note": {
        "shipping_cost": None, "pretax_credit_amounts": [], "total_taxes": [], "refunds": [],
        "voided_at": None, "pdf": None,
    },
    "credit_note_line_item": {"pretax_credit_amounts": [], "taxes": [], "tax_rates": []},
    "refund": {"destination_details": None},
    "webhook_endpoint": {"description": None},
    "payment_method": {"billing_details": BLANK, "metadata": {}},
    "invoice_payment": {"status_transitions": BLANK},
}


def build(kind: str, **values: Any) -> dict[str, Any]:
    """A new `kind` object: the example's fields, placeholders reset, then `values` applied."""
    obj = copy.deepcopy(FIXTURES[kind])
    for key in _NULL_ALL:
        if key in obj:
            obj[key] = None
    for key, value in RESETS.get(kind, {}).items():
        obj[key] = blank(obj[key]) if value is BLANK else copy.deepcopy(value)
    for key in ("metadata", "discounts", "discount_amounts", "tax_rates", "default_tax_rates"):
        if isinstance(obj.get(key), (dict, list)):
            obj[key] = type(obj[key])()
    obj["livemode"] = False
    if "description" in obj:
        obj["description"] = None
    obj.update(values)
    return obj


def list_object(data: list[dict[str, Any]], url: str, *, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def deleted(kind: str, obj_id: str) -> dict[str, Any]:
    return {"id": obj_id, "object": FIXTURES[f"deleted_{kind}"]["object"], "deleted": True}


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` mirror Stripe still embeds on subscription items."""
    recurring = price["recurring"] or {}
    plan = copy.deepcopy(FIXTURES["plan"])
    plan.update(
        active=price["active"], amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"], billing_scheme=price["billing_scheme"],
        created=price["created"], currency=price["currency"], id=price["id"],
        interval=recurring.get("interval"), interval_count=recurring.get("interval_count"),
        livemode=False, metadata=dict(price["metadata"]), meter=None,
        nickname=price["nickname"], product=price["product"], tiers_mode=None,
        transform_usage=None, trial_period_days=None, usage_type="licensed",
    )
    return plan
