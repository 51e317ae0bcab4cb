"""The CRM fields a deal carries, by API name, and the labels people see in messages.

Messages say "Billing Cadence is empty", never `Billing_Cadence__c`. The custom fields' labels
are those of the deployable metadata in `salesforce/`; tests/unit/test_salesforce_metadata.py
keeps the two in step. A field missing here (one added to REQUIRED_FIELDS, say) is labelled
the way Salesforce suggests a label for an API name.
"""

from __future__ import annotations

from collections.abc import Iterable

LABELS: dict[str, str] = {
    # Opportunity, standard fields (their labels in a standard org).
    "Amount": "Amount",
    "CloseDate": "Close Date",
    "CurrencyIsoCode": "Currency",
    "Name": "Opportunity Name",
    "StageName": "Stage",
    "OpportunityLineItems": "Products",
    # OpportunityLineItem, standard fields.
    "Quantity": "Quantity",
    "TotalPrice": "Total Price",
    "UnitPrice": "Sales Price",
    "ServiceDate": "Date",
    # Custom fields: the metadata's labels.
    "Contract_Start_Date__c": "Contract Start Date",
    "Contract_End_Date__c": "Contract End Date",
    "Renewal_Of__c": "Renewal Of",
    "Cancellation_Date__c": "Cancellation Date",
    "Billing_Cadence__c": "Billing Cadence",
    "Payment_Terms__c": "Payment Terms",
    "Product_Line__c": "Product Line",
    "Requires_Approval__c": "Requires Approval",
    "Stripe_Customer_Id__c": "Stripe Customer ID",
    "Stripe_Subscription_Id__c": "Stripe Subscription ID",
    "ERP_Customer_Id__c": "ERP Customer ID",
    "ERP_Sales_Order_Id__c": "ERP Sales Order ID",
    "ERP_Invoice_Id__c": "ERP Invoice ID",
    "Invoice_Number__c": "Invoice Number",
    "Invoice_Status__c": "Invoice Status",
    "Payment_Date__c": "Payment Date",
    "Outstanding_Balance__c": "Outstanding Balance",
    "Refunded_Amount__c": "Refunded Amount",
    "Dispute_Status__c": "Dispute Status",
    "Sync_Status__c": "Sync Status",
    "Sync_Error__c": "Sync Error",
    "Approval_Status__c": "Approval Status",
    "Last_Sync_Time__c": "Last Sync Time",
    "Billing_Email__c": "Billing Email",
    "Billing_Type__c": "Billing Type",
    "Service_End_Date__c": "Service End Date",
    "SSP__c": "Standalone Selling Price",
    "SSP_High__c": "SSP High",
    "Delivered_On__c": "Delivered On",
    "Milestones__c": "Milestones",
    "Billing_Entity__c": "Billing Entity",
    "BillingCountry": "Billing Country",
}


def label(api_name: str) -> str:
    """`Billing_Cadence__c` → `Billing Cadence`; `Account.Billing_Email__c` → `Billing Email`."""
    name = api_name.rsplit(".", 1)[-1]
    return LABELS.get(name) or name.removesuffix("__c").replace("_", " ").strip()


def labels(api_names: Iterable[str]) -> list[str]:
    return [label(name) for name in api_names]
