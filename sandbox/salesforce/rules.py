"""Per-object save logic Salesforce runs server-side.

- Opportunity: `IsClosed` / `IsWon` follow `StageName` ("Closed Won" is both, "Closed Lost" is
  closed only). Once an opportunity has line items its `Amount` is their `TotalPrice` sum and a
  client can no longer set it; every line-item write re-stamps the parent opportunity, which is
  what makes an incremental `SystemModstamp` cursor see product changes.
- OpportunityLineItem: exactly one of `UnitPrice` / `TotalPrice` on create; the other is derived
  (`TotalPrice = Quantity * UnitPrice * (1 - Discount/100)`, 2 places, half-up). `ListPrice` and
  `Product2Id` come from the price book entry, which must be active. `Name` is
  "<opportunity name> <product name>".
- PricebookEntry: a custom price book needs a standard price first; one entry per product,
  book and currency.
- Contact / User: `Name` is "FirstName LastName".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sandbox.salesforce.errors import SalesforceError

if TYPE_CHECKING:
    from sandbox.salesforce.schema import SObjectDef
    from sandbox.salesforce.store import Record, Store

CENT = Decimal("0.01")
CASCADES: dict[str, list[tuple[str, str]]] = {
    "Account": [("Opportunity", "AccountId"), ("Contact", "AccountId")],
    "Opportunity": [("OpportunityLineItem", "OpportunityId")],
    "Product2": [("PricebookEntry", "Product2Id")],
}


def _integrity(message: str, fields: list[str]) -> SalesforceError:
    return SalesforceError(
        "FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {message}", fields=fields
    )


def before_insert(store: Store, obj: SObjectDef, record: Record) -> None:
    if obj.name == "OpportunityLineItem":
        _line_item_insert(store, record)
    elif obj.name == "PricebookEntry":
        _pricebook_entry_insert(store, record)
    elif obj.name == "Pricebook2":
        record["IsStandard"] = False
    _derive(obj, record)


def before_update(
    store: Store, obj: SObjectDef, record: Record, old: Record, values: dict[str, Any]
) -> None:
    if obj.name == "Opportunity" and "Amount" in values and store.children(
        "OpportunityLineItem", "OpportunityId", record["Id"]
    ):
        raise _integrity("Amount (opportunity has products; amount is their total)", ["Amount"])
    if obj.name == "OpportunityLineItem":
        if record["Quantity"] == 0:
            raise _integrity("Quantity (quantity must be non-zero)", ["Quantity"])
        if record["UnitPrice"] is None:
            raise SalesforceError(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [UnitPrice]",
                fields=["UnitPrice"],
            )
        record["TotalPrice"] = _total(record)
    _derive(obj, record)


def before_delete(store: Store, obj: SObjectDef, record: Record) -> list[tuple[str, str]]:
    """Child (object, lookup) pairs to delete with `record`; raises when Salesforce refuses."""
    if obj.name == "User":
        raise SalesforceError(
            "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are GET,PATCH,HEAD",
            status=405,
        )
    if obj.name == "Pricebook2" and record.get("IsStandard"):
        raise SalesforceError("DELETE_FAILED", "Cannot delete the standard price book", fields=[])
    if obj.name in ("PricebookEntry", "Product2"):
        field = "PricebookEntryId" if obj.name == "PricebookEntry" else "Product2Id"
        if store.children("OpportunityLineItem", field, record["Id"]):
            raise SalesforceError(
                "DELETE_FAILED", "This record is in use by opportunity products", fields=[]
            )
    return CASCADES.get(obj.name, [])


def after_write(store: Store, obj: SObjectDef, new: Record | None, old: Record | None) -> None:
    if obj.name != "OpportunityLineItem":
        return
    opp_id = (new or old or {}).get("OpportunityId")
    opp = store.find("Opportunity", opp_id)
    if opp is None:
        return  # the opportunity itself is being deleted
    items = store.children("OpportunityLineItem", "OpportunityId", opp["Id"])
    updated = dict(opp)
    updated["Amount"] = sum((i["TotalPrice"] for i in items), Decimal("0.00")) if items else None
    store.touch("Opportunity", updated)


def _derive(obj: SObjectDef, record: Record) -> None:
    if obj.name == "Opportunity":
        stage = record.get("StageName")
        record["IsClosed"] = stage in ("Closed Won", "Closed Lost")
        record["IsWon"] = stage == "Closed Won"
    elif obj.name in ("Contact", "User"):
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(p for p in parts if p)


def _total(record: Record) -> Decimal:
    discount = record.get("Discount") or Decimal(0)
    gross = record["Quantity"] * record["UnitPrice"] * (1 - discount / 100)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


def _line_item_insert(store: Store, record: Record) -> None:
    unit, total = record.get("UnitPrice"), record.get("TotalPrice")
    if unit is not None and total is not None:
        raise _integrity("TotalPrice (you cannot specify both unit price and total price)",
                         ["TotalPrice"])
    if unit is None and total is None:
        raise SalesforceError(
            "REQUIRED_FIELD_MISSING", "Required fields are missing: [UnitPrice]",
            fields=["UnitPrice"],
        )
    if record["Quantity"] == 0:
        raise _integrity("Quantity (quantity must be non-zero)", ["Quantity"])
    entry = store.find("PricebookEntry", record.get("PricebookEntryId"))
    if entry is not None:
        if not entry["IsActive"]:
            raise _integrity("PricebookEntryId (pricebook entry is inactive)",
                             ["PricebookEntryId"])
        if record.get("Product2Id") not in (None, entry["Product2Id"]):
            raise _integrity("PricebookEntryId, Product2Id (product does not match entry)",
                             ["PricebookEntryId", "Product2Id"])
        record["Product2Id"] = entry["Product2Id"]
        record["ListPrice"] = entry["UnitPrice"]
    if total is not None:
        discount = record.get("Discount") or Decimal(0)
        divisor = record["Quantity"] * (1 - discount / 100)
        record["UnitPrice"] = (total / divisor).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        record["TotalPrice"] = _total(record)
    opp = store.find("Opportunity", record["OpportunityId"]) or {}
    product = store.find("Product2", record.get("Product2Id")) or {}
    record["Name"] = " ".join(n for n in (opp.get("Name"), product.get("Name")) if n)


def _pricebook_entry_insert(store: Store, record: Record) -> None:
    book = store.find("Pricebook2", record["Pricebook2Id"]) or {}
    siblings = store.children("PricebookEntry", "Product2Id", record["Product2Id"])
    same_currency = [e for e in siblings if e["CurrencyIsoCode"] == record["CurrencyIsoCode"]]
    if any(e["Pricebook2Id"] == record["Pricebook2Id"] for e in same_currency):
        raise SalesforceError(
            "DUPLICATE_VALUE", "This price definition already exists in this price book",
            fields=[],
        )
    if not book.get("IsStandard"):
        standard = [store.find("Pricebook2", e["Pricebook2Id"]) for e in same_currency]
        if not any(b and b["IsStandard"] for b in standard):
            raise SalesforceError(
                "STANDARD_PRICE_NOT_DEFINED",
                "Before creating a custom price, create a standard price.", fields=[],
            )
    product = store.find("Product2", record["Product2Id"]) or {}
    record["Name"] = product.get("Name")

