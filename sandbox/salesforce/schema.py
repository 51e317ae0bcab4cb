"""The org's shape: objects, fields, lookups and child relationships, with describe output.

Names are case-insensitive everywhere in Salesforce (SOQL, JSON bodies, REST paths), but answers
always use the canonical casing, so every lookup here goes through a lower-cased index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.salesforce.errors import SalesforceError

STRING_TYPES = frozenset({"id", "reference", "string", "textarea", "email", "picklist"})
NUMBER_TYPES = frozenset({"double", "currency", "percent"})
FIELD_TYPES = STRING_TYPES | NUMBER_TYPES | {"boolean", "date", "datetime"}
AUDIT_FIELDS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str = ""
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    custom: bool = False
    length: int = 0
    precision: int = 0
    scale: int = 0
    reference_to: str | None = None
    relationship_name: str | None = None
    default: Any = None

    @property
    def required(self) -> bool:
        return self.createable and not self.nillable and self.default is None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "custom": self.custom,
            "length": self.length,
            "precision": self.precision,
            "scale": self.scale,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "defaultedOnCreate": self.default is not None or not self.createable,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
        }


@dataclass(frozen=True)
class ChildRelationship:
    name: str
    child: str
    field: str


@dataclass
class SObjectDef:
    name: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    children: dict[str, ChildRelationship] = field(default_factory=dict)

    def add(self, f: FieldDef) -> None:
        self.fields[f.name.lower()] = f

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        low = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == low:
                return f
        return None

    def describe(self, version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.name,
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": True,
            "updateable": True,
            "deletable": self.name != "User",
            "queryable": True,
            "fields": [f.describe() for f in self.fields.values()],
            "childRelationships": [
                {"relationshipName": c.name, "childSObject": c.child, "field": c.field}
                for c in self.children.values()
            ],
            "urls": {
                "sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"
            },
        }


def _s(name: str, length: int = 255, **kw: Any) -> FieldDef:
    type_ = kw.pop("type", "string")
    return FieldDef(name, type_, length=length, custom=name.endswith("__c"), **kw)


def _n(
    name: str, type_: str = "currency", precision: int = 18, scale: int = 2, **kw: Any
) -> FieldDef:
    custom = name.endswith("__c")
    return FieldDef(name, type_, precision=precision, scale=scale, custom=custom, **kw)


def _t(name: str, type_: str, **kw: Any) -> FieldDef:
    return FieldDef(name, type_, custom=name.endswith("__c"), **kw)


def _ref(name: str, target: str, rel: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", length=18, reference_to=target, relationship_name=rel, **kw)


_RO = {"createable": False, "updateable": False}
_INSERT_ONLY = {"updateable": False}


def _common(obj: SObjectDef, owned: bool = True) -> None:
    obj.add(FieldDef("Id", "id", length=18, nillable=False, **_RO))
    if owned:
        obj.add(_ref("OwnerId", "User", "Owner", nillable=False, default="owner"))
    for name in AUDIT_FIELDS:
        obj.add(FieldDef(name, "datetime", nillable=False, **_RO))
    obj.add(FieldDef("IsDeleted", "boolean", nillable=False, **_RO))


def _build() -> dict[str, SObjectDef]:
    user = SObjectDef("User", "005")
    _common(user, owned=False)
    for f in (_s("FirstName", 40), _s("LastName", 80, nillable=False), _s("Name", 121, **_RO),
              _s("Email", 128, type="email", nillable=False), _s("Username", 80),
              _t("IsActive", "boolean", nillable=False, default=True)):
        user.add(f)

    account = SObjectDef("Account", "001")
    _common(account)
    for f in (_s("Name", nillable=False), _s("Type", 255, type="picklist"),
              _s("Industry", type="picklist"), _s("BillingCountry", 80),
              _s("Billing_Email__c", 80, type="email"), _s("Stripe_Customer_Id__c"),
              _s("ERP_Customer_Id__c")):
        account.add(f)

    contact = SObjectDef("Contact", "003")
    _common(contact)
    for f in (_ref("AccountId", "Account", "Account"), _s("FirstName", 40),
              _s("LastName", 80, nillable=False), _s("Name", 121, **_RO),
              _s("Email", 80, type="email")):
        contact.add(f)

    opp = SObjectDef("Opportunity", "006")
    _common(opp)
    for f in (_s("Name", 120, nillable=False), _ref("AccountId", "Account", "Account"),
              _n("Amount"),
              _s("CurrencyIsoCode", 3, type="picklist", nillable=False, default="USD"),
              _s("StageName", type="picklist", nillable=False),
              _t("CloseDate", "date", nillable=False),
              _t("IsClosed", "boolean", nillable=False, **_RO),
              _t("IsWon", "boolean", nillable=False, **_RO),
              _s("Type", type="picklist"), _s("Description", 32000, type="textarea"),
              _t("Contract_Start_Date__c", "date"), _t("Contract_End_Date__c", "date"),
              _s("Renewal_Of__c", 18), _t("Cancellation_Date__c", "date"),
              _s("Billing_Cadence__c", type="picklist"), _s("Payment_Terms__c", type="picklist"),
              _s("Product_Line__c", 80), _s("Pricing_Model__c", type="picklist"),
              _t("Requires_Approval__c", "boolean", nillable=False, default=False),
              _s("Billing_Entity__c", 80),
              _s("Stripe_Customer_Id__c"), _s("Stripe_Subscription_Id__c"),
              _s("ERP_Customer_Id__c"), _s("ERP_Sales_Order_Id__c"), _s("ERP_Invoice_Id__c"),
              _s("Invoice_Number__c"), _s("Invoice_Status__c", type="picklist"),
              _s("Sync_Status__c", type="picklist"),
              _s("Sync_Error__c", 32768, type="textarea"),
              _s("Approval_Status__c", type="picklist"),
              _t("Payment_Date__c", "date"), _n("Outstanding_Balance__c", precision=16),
              _n("Refunded_Amount__c", precision=16), _s("Dispute_Status__c", type="picklist"),
              _t("Last_Sync_Time__c", "datetime")):
        opp.add(f)

    product = SObjectDef("Product2", "01t")
    _common(product, owned=False)
    for f in (_s("Name", nillable=False), _s("ProductCode"), _s("Family", type="picklist"),
              _t("IsActive", "boolean", nillable=False, default=False),
              _s("Description", 4000, type="textarea"), _n("SSP__c", precision=16),
              _n("SSP_High__c", precision=16)):
        product.add(f)

    pricebook = SObjectDef("Pricebook2", "01s")
    _common(pricebook, owned=False)
    for f in (_s("Name", nillable=False), _t("IsActive", "boolean", nillable=False, default=False),
              _t("IsStandard", "boolean", nillable=False, **_RO)):
        pricebook.add(f)

    pbe = SObjectDef("PricebookEntry", "01u")
    _common(pbe, owned=False)
    for f in (_ref("Pricebook2Id", "Pricebook2", "Pricebook2", nillable=False, **_INSERT_ONLY),
              _ref("Product2Id", "Product2", "Product2", nillable=False, **_INSERT_ONLY),
              _s("Name", **_RO), _n("UnitPrice", nillable=False),
              _s("CurrencyIsoCode", 3, type="picklist", nillable=False, default="USD",
                 **_INSERT_ONLY),
              _t("IsActive", "boolean", nillable=False, default=False)):
        pbe.add(f)

    oli = SObjectDef("OpportunityLineItem", "00k")
    _common(oli, owned=False)
    for f in (_ref("OpportunityId", "Opportunity", "Opportunity", nillable=False, **_INSERT_ONLY),
              _ref("Product2Id", "Product2", "Product2", **_INSERT_ONLY),
              _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", **_INSERT_ONLY),
              _s("Name", 376, **_RO), _n("Quantity", "double", 12, 2, nillable=False),
              _n("UnitPrice"), _n("ListPrice", **_RO), _n("TotalPrice", **_INSERT_ONLY),
              _n("Discount", "percent", 5, 2), _t("ServiceDate", "date"), _s("Description"),
              _s("Billing_Type__c", type="picklist"), _t("Service_End_Date__c", "date"),
              _t("Delivered_On__c", "date"), _s("Milestones__c", 80)):
        oli.add(f)

    objects = [user, account, contact, opp, product, pricebook, pbe, oli]
    by_name = {o.name.lower(): o for o in objects}
    for rel, child, fk in (("OpportunityLineItems", "OpportunityLineItem", "OpportunityId"),
                           ("Opportunities", "Opportunity", "AccountId"),
                           ("Contacts", "Contact", "AccountId"),
                           ("PricebookEntries", "PricebookEntry", "Product2Id")):
        parent = by_name[child.lower()].fields[fk.lower()].reference_to
        assert parent is not None
        by_name[parent.lower()].children[rel.lower()] = ChildRelationship(rel, child, fk)
    return by_name


class Schema:
    """All object definitions of one emulated org; `add_field` extends it at run time."""

    def __init__(self) -> None:
        self._objects = _build()
        self._lock = threading.Lock()

    def object(self, name: str) -> SObjectDef | None:
        return self._objects.get(name.lower())

    def require(self, name: str) -> SObjectDef:
        obj = self.object(name)
        if obj is None:
            raise SalesforceError(
                "INVALID_TYPE",
                f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
            )
        return obj

    def objects(self) -> list[SObjectDef]:
        return list(self._objects.values())

    def by_prefix(self, prefix: str) -> SObjectDef | None:
        return next((o for o in self._objects.values() if o.key_prefix == prefix), None)

    def add_field(self, sobject: str, name: str, type_: str) -> FieldDef:
        obj = self.require(sobject)
        if not name.endswith("__c") or not name[:-3].replace("_", "a").isalnum():
            raise ValueError(f"custom field names end in __c and are alphanumeric: {name!r}")
        if type_ not in FIELD_TYPES - {"id", "reference"}:
            raise ValueError(f"unsupported field type {type_!r}")
        if type_ in NUMBER_TYPES:
            f = _n(name, type_)
        elif type_ in STRING_TYPES:
            f = _s(name, 32768 if type_ == "textarea" else 255, type=type_)
        else:
            checkbox = type_ == "boolean"
            f = _t(name, type_, nillable=not checkbox, default=False if checkbox else None)
        with self._lock:
            if obj.field(name) is not None:
                raise ValueError(f"{obj.name}.{name} already exists")
            obj.add(f)
        return f

    def remove_field(self, sobject: str, name: str) -> None:
        """Delete a custom field, as an admin can in Setup; describe and SOQL stop knowing it."""
        obj = self.require(sobject)
        found = obj.field(name)
        if found is None or not found.custom:
            raise ValueError(f"{obj.name}.{name} is not a custom field of this org")
        with self._lock:
            del obj.fields[name.lower()]

    def make_read_only(self, sobject: str, name: str) -> None:
        """Field-level security of the API user set to Read: describe shows the field as neither
        createable nor updateable, and a write to it is refused."""
        obj = self.require(sobject)
        found = obj.field(name)
        if found is None:
            raise ValueError(f"{obj.name} has no field {name}")
        with self._lock:
            obj.fields[name.lower()] = replace(found, createable=False, updateable=False)
