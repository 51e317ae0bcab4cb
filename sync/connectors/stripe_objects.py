"""Stripe's JSON objects → canonical models. Pure functions: no client, no I/O.

Since the 2025 API an invoice's subscription lives under `parent.subscription_details`, and a
line's origin under `parent.type` (`subscription_item_details` for recurring lines). A line's
tax is its `taxes` (one entry per rate; `total_taxes` on the invoice adds them up): exclusive tax
comes on top of the line's `amount`, inclusive tax is inside it and is taken out here, so the
canonical line amount never includes tax. A line names its product under
`pricing.price_details.product`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sync.model import Invoice, InvoiceLine, InvoiceStatus


def timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def day(value: int | None) -> date | None:
    stamp = timestamp(value)
    return stamp.date() if stamp else None


def _product_id(line: dict[str, Any]) -> str | None:
    details = (line.get("pricing") or {}).get("price_details") or {}
    product = details.get("product")
    if isinstance(product, dict):
        product = product.get("id")
    return str(product) if product else None


def to_invoice(
    data: dict[str, Any], product_name: Callable[[str], str | None] | None = None
) -> Invoice:
    """`product_name` turns a line's product ID into its name; without it lines carry none."""
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
        taxes = line.get("taxes") or []
        inclusive = sum(int(t.get("amount") or 0) for t in taxes
                        if t.get("tax_behavior") == "inclusive")
        product = _product_id(line)
        lines.append(
            InvoiceLine(
                description=str(line.get("description") or ""),
                amount_minor=int(line.get("amount") or 0) - inclusive,
                recurring=line_parent.get("type") == "subscription_item_details",
                period_start=day(period.get("start")),
                period_end=day(period.get("end")),
                tax_minor=sum(int(t.get("amount") or 0) for t in taxes),
                product=product_name(product) if product and product_name else None,
            )
        )
    customer = data.get("customer")
    version = meta.get("contract_version")
    overpaid = int(data.get("amount_overpaid") or 0)
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
        # Stripe's `amount_paid` includes an overpayment, which goes to the customer's credit.
        amount_paid_minor=int(data.get("amount_paid") or 0) - overpaid,
        amount_overpaid_minor=overpaid,
        credit_applied_minor=_credit_applied(data),
        amount_remaining_minor=int(data.get("amount_remaining") or 0),
        status=InvoiceStatus(data.get("status") or "draft"),
        issued_on=day(transitions.get("finalized_at") or data.get("created")),
        due_on=day(data.get("due_date")),
        paid_at=timestamp(transitions.get("paid_at")),
        closed_at=timestamp(transitions.get("voided_at")
                            or transitions.get("marked_uncollectible_at")),
        lines=tuple(lines),
    )


def _credit_applied(data: dict[str, Any]) -> int:
    """The credit balance finalizing the invoice used: from a negative `starting_balance` (a
    credit) towards `ending_balance`. A positive starting balance is a debt added, not a credit."""
    start, end = data.get("starting_balance"), data.get("ending_balance")
    if start is None or end is None:
        return 0
    return max(0, int(end) - int(start))
