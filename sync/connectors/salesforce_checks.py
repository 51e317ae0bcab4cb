"""`closebot doctor` for Salesforce: describe each object closebot touches, as its own user sees
it, and compare with the fields closebot reads and writes.

Describe answers with the running user's field-level security applied: a field hidden from the
user is absent, a read-only one is neither createable nor updateable, which is exactly what a
write-back would run into. Nothing is written.
"""

from __future__ import annotations

from typing import Any

from sync.connectors.salesforce import DEAL_FIELDS, LINE_FIELDS, SalesforceCrm
from sync.errors import SyncError
from sync.ports import Check

SYSTEM = "Salesforce"
# What the write-back step (sync/engine/writeback.py) sets; a unit test keeps them in step.
WRITTEN: dict[str, tuple[str, ...]] = {
    "Opportunity": (
        "Sync_Status__c", "Sync_Error__c", "Last_Sync_Time__c", "Approval_Status__c",
        "Stripe_Customer_Id__c", "Stripe_Subscription_Id__c", "ERP_Customer_Id__c",
        "ERP_Sales_Order_Id__c", "ERP_Invoice_Id__c", "Invoice_Number__c", "Invoice_Status__c",
        "Payment_Date__c", "Outstanding_Balance__c", "Refunded_Amount__c", "Dispute_Status__c",
    ),
    "Account": ("Stripe_Customer_Id__c", "ERP_Customer_Id__c"),
    "OpportunityLineItem": (),
}
SETUP = "Setup → Object Manager → {obj} → Fields & Relationships"
MULTI_CURRENCY = ("turn on multiple currencies: Setup → Company Information → Currency Setup "
                  "(closebot bills each deal in its own currency)")


def read_fields() -> dict[str, tuple[str, ...]]:
    """The fields closebot reads, per object: intake's SOQL, plus what it writes (the audit
    reads those back)."""
    opportunity = [f for f in DEAL_FIELDS if "." not in f] + ["IsWon"]
    account = ["Name"] + [f.split(".", 1)[1] for f in DEAL_FIELDS if f.startswith("Account.")]
    lines = [f for f in LINE_FIELDS if "." not in f]
    found = {"Opportunity": opportunity, "Account": account, "OpportunityLineItem": lines}
    return {obj: tuple(dict.fromkeys([*names, *WRITTEN[obj]])) for obj, names in found.items()}


def _label(name: str, described: dict[str, Any] | None) -> str:
    # A missing field has no label to show; Salesforce derives API names from labels this way.
    label = (described or {}).get("label") or name.removesuffix("__c").replace("_", " ")
    return f"{label} ({name})"


def check_object(sobject: str, described: dict[str, Any]) -> list[Check]:
    fields = {f["name"].lower(): f for f in described.get("fields") or []}
    problems: list[Check] = []
    needed = read_fields()[sobject]
    for name in needed:
        if name.lower() in fields:
            continue
        fix = (MULTI_CURRENCY if name == "CurrencyIsoCode" else
               f"create it: {SETUP.format(obj=sobject)} → New (README, “Pointing closebot at the "
               "real systems”, gives its type)")
        problems.append(Check(SYSTEM, False, f"{sobject} field {_label(name, None)} is missing",
                              fix))
    for name in WRITTEN[sobject]:
        field = fields.get(name.lower())
        if field is None or field.get("updateable"):
            continue
        label = _label(name, field)
        problems.append(Check(
            SYSTEM, False, f"closebot's user can't edit {sobject} field {label}",
            f"{SETUP.format(obj=sobject)} → {field.get('label') or name} → Set Field-Level "
            "Security: Visible, not Read-Only, for its profile"))
    if problems:
        return problems
    writes = len(WRITTEN[sobject])
    tail = f"; the {writes} it writes are writable" if writes else ""
    return [Check(SYSTEM, True, f"{sobject} has the {len(needed)} fields closebot reads{tail}")]


def diagnose(crm: SalesforceCrm) -> list[Check]:
    checks: list[Check] = []
    for sobject in WRITTEN:
        try:
            described = crm.describe(sobject)
        except SyncError as error:
            if not checks:  # not even the first call worked: the rest would say the same
                return [Check(SYSTEM, False, f"can't read Salesforce as closebot's user: "
                                             f"{error.reason}", _access_fix(error))]
            checks.append(Check(SYSTEM, False, f"can't describe {sobject}: {error.reason}",
                                _access_fix(error)))
            continue
        if not checks:
            checks.append(Check(SYSTEM, True, f"signed in to {crm.sf.sf_instance} "
                                              f"(API v{crm.sf.sf_version})"))
        checks += check_object(sobject, described)
    return checks


def _access_fix(error: SyncError) -> str:
    text = f"{error.reason} {error.detail or ''}"
    if "INVALID_SESSION_ID" in text or "credentials" in text or "session" in text:
        # The reason already says which setting to fix; point at where the login is set up.
        return "closebot config check shows which login is configured (docs/salesforce-auth.md)"
    if "could not be reached" in text:
        return "check SALESFORCE_INSTANCE_URL and the network path to it"
    return "give closebot's user read access to the object (its profile or a permission set)"
