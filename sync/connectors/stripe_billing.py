"""Stripe through stripe-python's StripeClient: customers, subscriptions, invoices, credit notes.

Quirks worth knowing:
- Stripe has no batch API and keeps idempotency keys for 24 hours. Every create carries a key
  derived from (opportunity, contract version, step); after 24 hours a retry first looks the
  record up by metadata (search is eventually consistent, which is fine that long after).
- Subscription items' `price_data` needs a product ID, so products get deterministic IDs
  (`cb_<hash of name>`) and are created once.
- The first invoice of a subscription is finalized at creation; renewals start as drafts and
  are finalized about an hour later.
- Since the 2025 API, an invoice's subscription lives under `parent.subscription_details`.
"""

from __future__ import annotations

import time as time_module
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sync.connectors.stripe_amend import amend
from sync.connectors.stripe_books import read_books
from sync.connectors.stripe_events import page_of
from sync.connectors.stripe_lifecycle import StripeLifecycle
from sync.connectors.stripe_objects import timestamp, to_invoice
from sync.connectors.stripe_transport import SYSTEM, quote
from sync.errors import PermanentError
from sync.model import (
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceStatus,
    Obligation,
)
from sync.ports import BillingBooks, BillingResult, EventPage


class StripeBilling(StripeLifecycle):
    name = SYSTEM

    # --- customers -------------------------------------------------------------------------
    def ensure_customer(self, customer: Customer, *, key: str, lookup: bool) -> str:
        if lookup and (found := self._find_customer(customer.crm_account_id)):
            return found
        params: dict[str, Any] = {
            "name": customer.name,
            "metadata": {"sf_account_id": customer.crm_account_id},
        }
        if customer.email:
            params["email"] = customer.email
        try:
            created = self._call("customers.create", "post", "/v1/customers", params, key=key)
        except PermanentError as error:
            # The same account seen with other details under the same key: find, don't create.
            if "idempotency" in (error.detail or "") and (
                found := self._find_customer(customer.crm_account_id)
            ):
                return found
            raise
        return str(created["id"])

    def _find_customer(self, account_id: str) -> str | None:
        result = self._call(
            "customers.search", "get", "/v1/customers/search",
            {"query": f"metadata['sf_account_id']:'{quote(account_id)}'", "limit": 1},
        )
        return str(result["data"][0]["id"]) if result["data"] else None

    # --- contracts -------------------------------------------------------------------------
    def ensure_contract(
        self, contract: Contract, *, customer_id: str, key: str, lookup: bool
    ) -> BillingResult:
        if contract.recurring:
            found = self._find_subscription(key) if lookup else None
            result = found or self._create_subscription(contract, customer_id=customer_id,
                                                        key=key)
            assert result.subscription_id is not None
            self._end_with_term(result.subscription_id, contract, key)
            return result
        return self._create_one_time_invoice(contract, customer_id=customer_id, key=key,
                                             lookup=lookup)

    def amend_contract(
        self,
        contract: Contract,
        *,
        subscription_id: str,
        new_fees: Sequence[Obligation],
        key: str,
        effective: date,
    ) -> BillingResult:
        return amend(self, contract, subscription_id=subscription_id, new_fees=new_fees,
                     key=key, effective=effective)

    def _create_subscription(
        self, contract: Contract, *, customer_id: str, key: str
    ) -> BillingResult:
        currency = contract.currency.lower()
        start = datetime.combine(contract.billing.start, time(), UTC)
        params: dict[str, Any] = {
            "customer": customer_id,
            "collection_method": "send_invoice",
            "days_until_due": contract.billing.payment_terms_days,
            "cancel_at": int(self._end(contract).timestamp()),
            "metadata": self._metadata(contract, key),
            "expand": ["latest_invoice"],
            "items": self._items(contract),
        }
        # No proration either way: not for a future anchor (nothing is owed before the start)
        # nor for a cancel_at inside the first period (its price is the whole term's).
        params["proration_behavior"] = "none"
        if start.timestamp() <= time_module.time():
            params["backdate_start_date"] = int(start.timestamp())
        else:
            params["billing_cycle_anchor"] = int(start.timestamp())
        if contract.one_time:
            params["add_invoice_items"] = [
                {
                    "price_data": {
                        "currency": currency,
                        "product": self._product(o.product),
                        "unit_amount": o.unit_minor,
                    },
                    "quantity": o.quantity,
                }
                for o in contract.one_time
            ]
        sub = self._call("subscriptions.create", "post", "/v1/subscriptions", params, key=key)
        return self._result(sub, contract)

    def _result(self, sub: dict[str, Any], contract: Contract) -> BillingResult:
        invoices = []
        latest = sub.get("latest_invoice")
        if isinstance(latest, dict):
            invoices.append(self._tag(self._read(latest), contract))
        elif isinstance(latest, str):
            invoices.append(self._tag(self.invoice(latest), contract))
        return BillingResult(subscription_id=str(sub["id"]), invoices=invoices)

    @staticmethod
    def _tag(invoice: Invoice, contract: Contract) -> Invoice:
        return invoice.model_copy(
            update={"opportunity_id": contract.opportunity_id,
                    "contract_version": contract.version}
        )

    def _create_one_time_invoice(
        self, contract: Contract, *, customer_id: str, key: str, lookup: bool = False
    ) -> BillingResult:
        """A draft invoice, one item per one-time obligation, then finalized. With `lookup`, each
        of the three creates first looks for what an earlier attempt made (the invoice by its
        metadata, items by their line), so a retry past the key window completes, never copies."""
        currency = contract.currency.lower()
        invoice = self._find_invoice(key) if lookup else None
        if invoice is None:
            invoice = self._call(
                "invoices.create", "post", "/v1/invoices",
                {
                    "customer": customer_id,
                    "collection_method": "send_invoice",
                    "days_until_due": contract.billing.payment_terms_days,
                    "metadata": self._metadata(contract, key),
                    "pending_invoice_items_behavior": "exclude",
                },
                key=f"{key}:invoice",
            )
        if invoice["status"] != "draft":
            return BillingResult(subscription_id=None,
                                 invoices=[self._tag(self._read(invoice), contract)])
        present = self._invoice_item_lines(str(invoice["id"])) if lookup else set()
        for o in contract.one_time:
            if o.line_id in present:
                continue
            self._call(
                "invoiceitems.create", "post", "/v1/invoiceitems",
                {
                    "customer": customer_id,
                    "invoice": invoice["id"],
                    "currency": currency,
                    "price_data": {
                        "currency": currency,
                        "product": self._product(o.product),
                        "unit_amount": o.unit_minor,
                    },
                    "quantity": o.quantity,
                    "metadata": {"sf_line_id": o.line_id},
                },
                key=f"{key}:item:{o.line_id}",
            )
        final = self._call(
            "invoices.finalize", "post", f"/v1/invoices/{invoice['id']}/finalize", {},
            key=f"{key}:finalize",
        )
        return BillingResult(subscription_id=None, invoices=[self._tag(self._read(final),
                                                                         contract)])

    def _find_invoice(self, key: str) -> dict[str, Any] | None:
        result = self._call(
            "invoices.search", "get", "/v1/invoices/search",
            {"query": f"metadata['closebot_key']:'{quote(key)}'", "limit": 1},
        )
        return result["data"][0] if result["data"] else None

    def _invoice_item_lines(self, invoice_id: str) -> set[str]:
        """The CRM lines that already have an item on this draft invoice."""
        listing = self._call("invoiceitems.list", "get", "/v1/invoiceitems",
                             {"invoice": invoice_id, "limit": 100})
        return {str((item.get("metadata") or {}).get("sf_line_id")) for item in listing["data"]}

    def _find_subscription(self, key: str) -> BillingResult | None:
        result = self._call(
            "subscriptions.search", "get", "/v1/subscriptions/search",
            {"query": f"metadata['closebot_key']:'{quote(key)}'", "limit": 1},
        )
        if not result["data"]:
            return None
        data = self._call(
            "subscriptions.retrieve", "get", f"/v1/subscriptions/{result['data'][0]['id']}",
            {"expand": ["latest_invoice"]},
        )
        meta = data.get("metadata") or {}
        invoices = []
        latest = data.get("latest_invoice")
        if isinstance(latest, dict):
            invoice = self._read(latest)
            invoices.append(invoice.model_copy(update={
                "opportunity_id": meta.get("sf_opportunity_id"),
                "contract_version": int(meta.get("contract_version") or 0) or None,
            }))
        return BillingResult(subscription_id=str(data["id"]), invoices=invoices)

    def _read(self, data: dict[str, Any]) -> Invoice:
        return to_invoice(data, self._product_name)

    # --- reads and credits -----------------------------------------------------------------
    def invoice(self, invoice_id: str) -> Invoice:
        return self._read(
            self._call("invoices.retrieve", "get", f"/v1/invoices/{invoice_id}", {})
        )

    def payments_for(self, invoice: Invoice) -> list:  # type: ignore[type-arg]
        return []

    def credit_invoice(
        self, invoice_id: str, *, amount_minor: int, reason: str, key: str, lookup: bool = False
    ) -> CreditNote:
        if lookup and (found := self._find_credit_note(invoice_id, key)):
            return self._credit_note(found, invoice_id, reason)
        current = self.invoice(invoice_id)
        params: dict[str, Any] = {
            "invoice": invoice_id,
            "amount": amount_minor,
            "memo": reason[:500],
            "reason": "order_change",
            "metadata": {"closebot_key": key},
        }
        if current.status == InvoiceStatus.PAID:
            params["credit_amount"] = amount_minor
        note = self._call("credit_notes.create", "post", "/v1/credit_notes", params, key=key)
        return self._credit_note(note, invoice_id, reason)

    def _find_credit_note(self, invoice_id: str, key: str) -> dict[str, Any] | None:
        """Credit notes have no search: list the invoice's (few) notes and match the key."""
        starting_after = None
        while True:
            params: dict[str, Any] = {"invoice": invoice_id, "limit": 100}
            if starting_after:
                params["starting_after"] = starting_after
            page = self._call("credit_notes.list", "get", "/v1/credit_notes", params)
            for note in page["data"]:
                if (note.get("metadata") or {}).get("closebot_key") == key:
                    return note
            if not page.get("has_more") or not page["data"]:
                return None
            starting_after = page["data"][-1]["id"]

    @staticmethod
    def _credit_note(note: dict[str, Any], invoice_id: str, reason: str) -> CreditNote:
        return CreditNote(
            billing_id=str(note["id"]),
            invoice_billing_id=invoice_id,
            amount_minor=int(note["amount"]),
            currency=str(note["currency"]).upper(),
            reason=reason,
            created_at=timestamp(note["created"]) or datetime.now(UTC),
        )

    def events(
        self, *, created_gte: int | None, starting_after: str | None = None
    ) -> EventPage:
        """One page (newest first) of `/v1/events`."""
        params: dict[str, Any] = {"limit": 100}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        return page_of(self._call("events.list", "get", "/v1/events", params))

    def books(self) -> BillingBooks:
        return read_books(self._call)
