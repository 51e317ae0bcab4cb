"""Deal records as the CRM connector hands them over, for unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sync.ports import DealRecord


def line(
    line_id: str,
    product: str,
    total: str,
    *,
    billing_type: str = "Recurring",
    quantity: int | str = 1,
    list_price: str | None = None,
    discount: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    numeric = str(quantity).lstrip("-").replace(".", "").isdigit()
    qty = Decimal(str(quantity)) if numeric else quantity
    values: dict[str, Any] = {
        "Id": line_id,
        "Product2Id": f"01t{line_id}",
        "Product2.Name": product,
        "Quantity": qty,
        "TotalPrice": Decimal(total),
        "UnitPrice": Decimal(list_price) if list_price else None,
        "ListPrice": Decimal(list_price) if list_price else None,
        "Discount": Decimal(discount) if discount else None,
        "Billing_Type__c": billing_type,
        "ServiceDate": None,
    }
    values.update(extra)
    return values


def deal(
    *,
    amount: str = "120000",
    lines: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> DealRecord:
    fields: dict[str, Any] = {
        "Id": "006ACME0000000001",
        "Name": "Acme Corp - Platform 2026",
        "AccountId": "001ACME0000000001",
        "Account.Name": "Acme Corp",
        "Account.Billing_Email__c": "ap@acme.example",
        "Owner.Email": "dana@sales.example",
        "Amount": Decimal(amount),
        "CurrencyIsoCode": "USD",
        "Contract_Start_Date__c": "2026-01-01",
        "Contract_End_Date__c": "2026-10-31",
        "Billing_Cadence__c": "Annual",
        "Payment_Terms__c": "Net 30",
        "Product_Line__c": "Platform",
    }
    fields.update(overrides)
    if lines is None:
        lines = [
            line("L1", "Implementation Services", "20000", billing_type="One-Time"),
            line("L2", "Platform Subscription", "100000"),
        ]
    return DealRecord(
        opportunity_id=str(fields["Id"]),
        modstamp=datetime(2026, 1, 2, tzinfo=UTC),
        fields=fields,
        lines=lines,
    )
