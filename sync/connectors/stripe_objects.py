"""Stripe's JSON objects → canonical models. Pure functions: no client, no I/O.

Since the 2025 API an invoice's subscription lives under `parent.subscription_details`, and a
line's origin under `parent.type` (`subscription_item_details` for recurring lines).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sync.model import Invoice, InvoiceLine, InvoiceStatus


def timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def day(value: int | None) -> date | None:
    stamp = timestamp(value)
    return stamp.date() if stamp else None


def to_invoice(data: dict[str, Any]) -> Invoice:
    parent = data.get("parent") or {}
    details = parent.get("subscription_details") or {}
    subscription = data.get("subscription") or details.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    meta = details.get("metadata") or data.get("metadata") or {}
    transitions = data.get("status_transitions") or {}
    lines = []
    for line in (data.get("lines") or {}).get("data") or []:
        period = line.get("period") or {}
        line_parent = line.get("parent") or {}
        lines.append(
            InvoiceLine(
                description=str(line.get("description") or ""),
                amount_minor=int(line.get("amount") or 0),
                recurring=line_parent.get("type") == "subscription_item_details",
                period_start=day(period.get("start")),
                period_end=day(period.get("end")),
            )
        )
    customer = data.get("customer")
    version = meta.get("contract_version")
    return Invoice(
        billing_id=data["id"],
        number=data.get("number"),
        billing_customer_id=customer["id"] if isinstance(customer, dict) else str(customer),
        subscription_id=subscription,
        opportunity_id=meta.get("sf_opportunity_id"),
        contract_version=int(version) if version else None,
        currency=str(data["currency"]).upper(),
        total_minor=int(data.get("total") or 0),
        amount_due_minor=int(data.get("amount_due") or 0),
        amount_paid_minor=int(data.get("amount_paid") or 0),
        amount_remaining_minor=int(data.get("amount_remaining") or 0),
        status=InvoiceStatus(data.get("status") or "draft"),
        issued_on=day(transitions.get("finalized_at") or data.get("created")),
        due_on=day(data.get("due_date")),
        paid_at=timestamp(transitions.get("paid_at")),
        lines=tuple(lines),
    )
