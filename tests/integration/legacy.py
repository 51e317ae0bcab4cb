"""Records that exist before closebot goes live, made through each system's own API (Stripe's,
NetSuite's REST record service) or, for the embedded ledger, its service API."""

from __future__ import annotations

from datetime import date
from typing import Any

import stripe
from sqlalchemy.orm import Session, sessionmaker

from sandbox.stack import SandboxStack
from sync.connectors.netsuite import NetSuiteErp
from sync.ledger import InvoiceLineIn, Ledger
from sync.model import Customer, Invoice, InvoiceLine, InvoiceStatus


class LegacyStripe:
    def __init__(self, stack: SandboxStack) -> None:
        self.client = stripe.StripeClient(
            stack.stripe.api_key, base_addresses={"api": stack.stripe.url},
            http_client=stripe.HTTPXClient(allow_sync_methods=True), max_network_retries=0)
        self._product: str | None = None

    def customer(self, name: str | None, email: str | None = None, **metadata: str) -> str:
        params: dict[str, Any] = {"metadata": metadata}
        if name:
            params["name"] = name
        if email:
            params["email"] = email
        return self.client.v1.customers.create(params=params).id  # type: ignore[arg-type]

    def subscription(self, customer: str, amount_minor: int, *, description: str | None = None,
                     **metadata: str) -> tuple[str, str]:
        """A yearly subscription billed by invoice; returns it and its first (open) invoice."""
        if self._product is None:
            self._product = self.client.v1.products.create(params={"name": "Legacy Plan"}).id
        params: dict[str, Any] = {
            "customer": customer, "collection_method": "send_invoice", "days_until_due": 30,
            "metadata": metadata,
            "items": [{"price_data": {"currency": "usd", "product": self._product,
                                      "unit_amount": amount_minor,
                                      "recurring": {"interval": "year"}}}]}
        if description:
            params["description"] = description
        sub = self.client.v1.subscriptions.create(params=params)  # type: ignore[arg-type]
        return sub.id, str(sub.latest_invoice)


def erp_customer(stack: SandboxStack, sessions: sessionmaker[Session], name: str,
                 external_id: str) -> str:
    if stack.netsuite is None:
        return Ledger(sessions).upsert_customer(external_id=external_id, name=name,
                                                currency="USD")
    return netsuite(stack).upsert_customer(Customer(crm_account_id=external_id, name=name),
                                           currency="USD")


def erp_invoice(stack: SandboxStack, sessions: sessionmaker[Session], customer: str, *,
                number: str, total_minor: int, external_id: str) -> str:
    """An open invoice booked by the integration closebot replaces, under its own key."""
    if stack.netsuite is None:
        ledger = Ledger(sessions)
        today = date.today()
        return ledger.post_invoice(
            external_id=external_id, customer_external_id=str(ledger.external_id_for(customer)),
            sales_order_external_id=None, number=number, currency="USD", issued_on=today,
            due_on=today, lines=[InvoiceLineIn(description="Legacy Plan",
                                               amount_minor=total_minor)])
    invoice = Invoice(billing_id=external_id, number=number, billing_customer_id="legacy",
                      currency="USD", total_minor=total_minor, amount_due_minor=total_minor,
                      amount_paid_minor=0, amount_remaining_minor=total_minor,
                      status=InvoiceStatus.OPEN, issued_on=date.today(),
                      lines=(InvoiceLine(description="Legacy Plan", amount_minor=total_minor,
                                         recurring=True),))
    return netsuite(stack).post_invoice(invoice, customer_id=customer, sales_order_id=None)


def netsuite(stack: SandboxStack) -> NetSuiteErp:
    assert stack.netsuite is not None
    env = stack.netsuite.env()
    return NetSuiteErp(account_id=env["NETSUITE_ACCOUNT_ID"], base_url=env["NETSUITE_BASE_URL"],
                       consumer_key=env["NETSUITE_CONSUMER_KEY"],
                       consumer_secret=env["NETSUITE_CONSUMER_SECRET"],
                       token_id=env["NETSUITE_TOKEN_ID"], token_secret=env["NETSUITE_TOKEN_SECRET"],
                       ca_bundle=env["NETSUITE_CA_BUNDLE"])
