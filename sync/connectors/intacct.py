"""`IntacctErp`: the `Erp` port over Sage Intacct's REST API (httpx, OAuth 2.0).

How a retry never creates twice (Sage's REST API has no XML-style `controlid`/`uniqueid`):
- a customer's and an item's `id` are chosen by closebot (the CRM account id, the product name)
  and Sage refuses a second record with the same id, so these are created first and an
  "already exists" answer means the record is there;
- every transaction (sales order, AR invoice, AR payment, AR adjustment) carries closebot's key in
  its `referenceNumber` (`opportunity:vN`, the billing invoice / payment / credit note id,
  `<invoice>:void|uncollectible`) and is read by it through the query service before it is
  written; a lost response, a retry or a crash followed by a re-run finds the record. Work on one
  deal is leased to one worker at a time, so no two writers race between the read and the write.
A credit (adjustment) is applied to its invoice by a second record, an AR payment whose detail
names the adjustment as the credit (`inlineTxn`), keyed `<credit>:apply`: a crash between the
two leaves the adjustment posted and recorded, and the retry finds it and completes the apply.
Invoice lines credit the deferred revenue account (Sage's revenue recognition templates release
it), tax the sales tax account; AR is the AR module's own account. Amounts are decimal strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sync.connectors.erp_invoices import not_itemized
from sync.connectors.intacct_books import IntacctBooks
from sync.connectors.intacct_change import amends_in_place, lower_amended_order
from sync.connectors.intacct_transport import SYSTEM
from sync.connectors.netsuite_closures import (
    BAD_DEBT_ITEM,
    TAX_ITEM,
    closure_lines,
    credit_lines,
)
from sync.connectors.revenue_subledger import RevenueSubledger, booked_on, followed
from sync.errors import PermanentError
from sync.model import ClosureKind, Contract, CreditNote, Customer, Invoice, InvoiceClosure, Payment
from sync.money import from_minor, to_minor
from sync.ports import ErpCustomer

CUSTOMER, ITEM = "accounts-receivable/customer", "inventory-control/item"
INVOICE, PAYMENT = "accounts-receivable/invoice", "accounts-receivable/payment"
ADJUSTMENT, ORDER = "accounts-receivable/adjustment", "order-entry/document::Sales Order"
DEFERRED, CREDIT = "deferred", "credit"
_GL = re.compile(r"GL account (\S+?):? ")


@dataclass(frozen=True)
class GlAccounts:
    """The chart's accounts closebot posts to, by their Sage Intacct account numbers."""

    deferred_revenue: str = "2100"
    sales_tax: str = "2300"
    bad_debt: str = "6200"
    credits_allowances: str = "4900"  # contra revenue: a credit beyond what was deferred
    undeposited_funds: str = "1010"
    customer_advances: str = "2200"  # an AR advance's line: money kept as the customer's credit


class IntacctErp(IntacctBooks):
    name = SYSTEM
    # The revenue schedules closebot keeps beside Sage Intacct (set by the wiring).
    subledger: RevenueSubledger | None = None

    # With FUNCTIONAL_CURRENCY set: the entity's base currency and closebot's rate (base units
    # per unit of a currency) on a day, None for the base currency itself. A foreign-currency
    # AR invoice or payment carries it in its `currency.exchangeRate`, so Sage converts at
    # closebot's rate instead of its own daily rate.
    base_currency: str | None = None
    exchange_rate: Callable[[str, date], Decimal | None] | None = None

    def _currency(self, currency: str, on: date) -> dict[str, Any]:
        block: dict[str, Any] = {"txnCurrency": currency}
        rate = self.exchange_rate(currency, on) if self.exchange_rate else None
        if rate is not None and self.base_currency:
            block.update(baseCurrency=self.base_currency,
                         exchangeRate={"date": on.isoformat(),
                                       "rate": format(rate.normalize(), "f")})
        return block

    def _invoice_currency(self, invoice: dict[str, Any], currency: str) -> dict[str, Any]:
        """A credit on an invoice takes back what the invoice booked, at the invoice's rate
        (the ledger's rule, docs/fx.md), not the credit day's."""
        held = invoice.get("currency") or {}
        rate = held.get("exchangeRate") or {}
        if self.exchange_rate is None or not rate.get("rate") or not held.get("baseCurrency"):
            return {"txnCurrency": currency}
        return {"txnCurrency": currency, "baseCurrency": held["baseCurrency"],
                "exchangeRate": {"date": rate.get("date"), "rate": str(rate["rate"])}}

    def __init__(self, *, accounts: GlAccounts | None = None, **transport: Any) -> None:
        super().__init__(**transport)
        self.accounts = accounts or GlAccounts()
        self.credits_account = self.accounts.credits_allowances
        self._items: set[str] = set()
        self._owners: dict[str, tuple[str, str]] = {}  # invoice key → (customer id, currency)

    # --- the Erp port ------------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, currency: str) -> str:
        body: dict[str, Any] = {"id": customer.crm_account_id, "name": customer.name[:100],
                                "currency": currency}
        if customer.email:
            body["contacts"] = {"default": {"email1": customer.email}}
        self._create_once(CUSTOMER, body)
        return customer.crm_account_id

    @followed
    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str:
        return self._sales_order(contract, customer_id)

    def _sales_order(self, contract: Contract, customer_id: str) -> str:
        found = self._find(ORDER, contract.order_key)
        if found:
            return found
        currency = contract.currency
        lines = [{"item": {"id": self._item(o.product)}, "quantity": str(o.quantity),
                  "txnAmount": str(from_minor(o.amount_minor, currency)),
                  "memo": o.product[:1000], "revRecStartDate": o.service_start.isoformat(),
                  "revRecEndDate": o.service_end.isoformat()} for o in contract.obligations]
        if amends_in_place(contract):
            return lower_amended_order(self, contract, lines)
        return self._create(ORDER, {
            "customer": {"id": customer_id}, "currency": {"txnCurrency": currency},
            "transactionDate": contract.billing.start.isoformat(),
            "referenceNumber": contract.order_key, "lines": lines,
            "memo": f"Salesforce opportunity {contract.opportunity_id} v{contract.version}"})

    @followed
    def post_invoice(self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
                     ) -> str:
        """The invoice total: its lines to deferred revenue, its tax to sales tax payable. An
        amount the lines don't itemize is refused, never posted as revenue."""
        found = self._find(INVOICE, invoice.billing_id)
        if found:
            return found
        if invoice.unitemized_minor:
            raise not_itemized(invoice, SYSTEM)
        currency = invoice.currency
        lines = [self._line(self.accounts.deferred_revenue, ln.amount_minor, currency,
                            ln.description, ln.period_start, ln.period_end)
                 for ln in invoice.lines]
        if invoice.tax_minor:
            lines.append(self._line(self.accounts.sales_tax, invoice.tax_minor, currency,
                                    "Sales tax"))
        issued = invoice.issued_on or datetime.now(UTC).date()
        memo = f"Stripe invoice {invoice.billing_id}"
        if sales_order_id:
            memo += f"; sales order {sales_order_id}"
        body: dict[str, Any] = {
            "customer": {"id": customer_id}, "currency": self._currency(currency, issued),
            "invoiceDate": issued.isoformat(), "dueDate": (invoice.due_on or issued).isoformat(),
            "referenceNumber": invoice.billing_id, "description": memo[:1000], "lines": lines}
        if invoice.number:
            body["invoiceNumber"] = invoice.number
        key = self._create(INVOICE, body)
        self._owners[key] = (customer_id, currency)
        return key

    @followed
    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str:
        found = self._find(PAYMENT, payment.billing_id)
        if found:
            return found
        customer_id, currency = self._owner(invoice_id)
        return self._create(PAYMENT, {
            "customer": {"id": customer_id},
            "currency": self._currency(currency, payment.paid_at.date()),
            "paymentDate": payment.paid_at.date().isoformat(), "paymentMethod": "EFT",
            "referenceNumber": payment.billing_id,
            "undepositedFundsGLAccount": {"id": self.accounts.undeposited_funds},
            "description": f"Stripe payment on invoice {payment.invoice_billing_id}",
            "details": [{"arInvoice": {"key": invoice_id},
                         "txnAmount": str(from_minor(payment.amount_minor, payment.currency))}]})

    @followed
    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str:
        """Booked as NetSuite's credit memo is (`netsuite_closures.credit_lines`): deferred
        revenue for what the invoice had not earned on the credit's date, contra revenue for
        the rest."""
        lines = credit_lines(credit, recurring_item=DEFERRED, one_time_item=DEFERRED,
                             credit_item=CREDIT)
        on, note = booked_on(self.subledger, credit.created_at.date())
        return self._credit(credit.billing_id, invoice_id, credit.currency, lines,
                            on.isoformat(),
                            f"Stripe credit note {credit.billing_id}: {credit.reason}{note}")

    @followed
    def close_invoice(self, closure: InvoiceClosure, *, invoice_id: str) -> str:
        """A void takes the open balance back out of deferred revenue (and tax); a write-off
        does the same for what was not earned and books the rest as bad debt (see
        `netsuite_closures.closure_lines`, shared by both ERPs)."""
        invoice = self._get(INVOICE, invoice_id)
        currency = closure.currency
        remaining = to_minor(Decimal(invoice["totalTxnAmountDue"]), currency)
        if remaining <= 0 and self._find(ADJUSTMENT, closure.key) is None:
            # Nothing open (a void after a write-off): nothing to take out here; the
            # reversal entry (`erp_reversals.py`) moves the bad debt back to revenue.
            return invoice_id
        total = to_minor(Decimal(invoice["totalTxnAmount"]), currency)
        lines = closure_lines(closure, remaining=remaining, total=total,
                              recurring_item=DEFERRED, one_time_item=DEFERRED)
        if closure.kind is ClosureKind.VOID:  # never issued: all of it comes back out
            tax = sum(minor for item, _, minor in lines if item == TAX_ITEM)
            lines = [(DEFERRED, f"Voided: Stripe invoice {closure.invoice_billing_id}",
                      remaining - tax)] + [line for line in lines if line[0] == TAX_ITEM]
        what = "voided" if closure.kind is ClosureKind.VOID else "marked uncollectible"
        return self._credit(closure.key, invoice_id, currency, lines,
                            closure.closed_on.isoformat(),
                            f"Stripe invoice {closure.invoice_billing_id} {what}")

    # --- helpers -----------------------------------------------------------------------------

    def _create(self, obj: str, body: dict[str, Any]) -> str:
        try:
            return super()._create(obj, body)
        except PermanentError as error:
            raise self._explained(error) from error

    def _explained(self, error: PermanentError) -> PermanentError:
        """Sage's refusal in words naming what to fix, and where."""
        text = error.detail or ""
        settings = {self.accounts.deferred_revenue: "INTACCT_DEFERRED_REVENUE_ACCOUNT",
                    self.accounts.sales_tax: "INTACCT_SALES_TAX_ACCOUNT",
                    self.accounts.bad_debt: "INTACCT_BAD_DEBT_ACCOUNT",
                    self.accounts.credits_allowances: "INTACCT_CREDITS_ALLOWANCES_ACCOUNT",
                    self.accounts.undeposited_funds: "INTACCT_UNDEPOSITED_FUNDS_ACCOUNT",
                    self.accounts.customer_advances: "INTACCT_CUSTOMER_ADVANCES_ACCOUNT"}
        if (found := _GL.search(text)) and found.group(1) in settings:
            account = found.group(1)
            reason = (f"Sage Intacct has no GL account {account}: add it to the chart of "
                      "accounts (General Ledger > Accounts) or set "
                      f"{settings[account]} to an account that exists")
        elif "Currency" in text:
            reason = (f"Sage Intacct refused the currency: {text.partition(': ')[2]}; enable it "
                      "for the company (Company > Setup > Currencies) or bill in one it keeps")
        elif "customer" in text.lower() and "Invalid" in text:
            reason = ("The customer is missing in Sage Intacct (Accounts Receivable > "
                      "Customers); retry the deal and closebot creates it again")
        else:
            return error
        return PermanentError(reason, system=SYSTEM, detail=text)

    def _credit(self, reference: str, invoice_id: str, currency: str,
                lines: list[tuple[str, str, int]], on: str, description: str) -> str:
        """An AR adjustment crediting the customer, applied to the invoice up to what it owes."""
        key = self._find(ADJUSTMENT, reference)
        invoice = self._get(INVOICE, invoice_id)
        customer_id = str(invoice["customer"]["id"])
        if key is None:
            account = {DEFERRED: self.accounts.deferred_revenue, TAX_ITEM: self.accounts.sales_tax,
                       BAD_DEBT_ITEM: self.accounts.bad_debt,
                       CREDIT: self.accounts.credits_allowances}
            key = self._create(ADJUSTMENT, {
                "customer": {"id": customer_id},
                "currency": self._invoice_currency(invoice, currency),
                "adjustmentDate": on, "referenceNumber": reference,
                "description": description[:1000],
                "lines": [self._line(account[item], -minor, currency, text)
                          for item, text, minor in lines]})
        apply_ref = f"{reference}:apply"
        owed = to_minor(Decimal(invoice["totalTxnAmountDue"]), currency)
        amount = min(owed, sum(minor for _, _, minor in lines))
        # On a paid invoice the credit stays on the customer's account, as Stripe does it.
        if amount > 0 and self._find(PAYMENT, apply_ref) is None:
            self._create(PAYMENT, {
                "customer": {"id": customer_id},
                "currency": self._invoice_currency(invoice, currency),
                "paymentDate": on, "paymentMethod": "Credit", "referenceNumber": apply_ref,
                "description": f"Credit {reference} applied",
                "details": [{"arInvoice": {"key": invoice_id}, "inlineTxn": {"key": key},
                             "txnAmount": str(from_minor(amount, currency))}]})
        return key

    def _line(self, account: str, minor: int, currency: str, memo: str,
              start: Any = None, end: Any = None) -> dict[str, Any]:
        line: dict[str, Any] = {"glAccount": {"id": account}, "memo": memo[:1000],
                                "txnAmount": str(from_minor(minor, currency))}
        if start and end:
            line.update(revRecStartDate=start.isoformat(), revRecEndDate=end.isoformat())
        return line

    def _create_once(self, obj: str, body: dict[str, Any]) -> None:
        """Create a record whose `id` closebot chose; one that already exists is the record."""
        try:
            self._create(obj, body)
        except PermanentError as error:
            if "already exists" not in (error.detail or ""):
                raise

    def _item(self, product: str) -> str:
        item_id = product[:60]
        if item_id not in self._items:
            self._create_once(ITEM, {"id": item_id, "name": product[:100]})
            self._items.add(item_id)
        return item_id

    def _owner(self, invoice_id: str) -> tuple[str, str]:
        if invoice_id not in self._owners:
            record = self._get(INVOICE, invoice_id)
            self._owners[invoice_id] = (str(record["customer"]["id"]),
                                        str(record["currency"]["txnCurrency"]))
        return self._owners[invoice_id]

    def customers(self) -> Iterator[list[ErpCustomer]]:
        rows = self.query(CUSTOMER, ["id", "name", "contacts.default.email1"])
        while page := list(islice(rows, 1000)):
            yield [ErpCustomer(id=str(r["id"]), name=r.get("name") or "",
                               email=r.get("contacts.default.email1"), external_id=str(r["id"]))
                   for r in page]

