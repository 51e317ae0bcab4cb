"""`NetSuiteErp`: the `Erp` port over NetSuite's REST web services (httpx, OAuth 1.0a TBA).

Every record is written by external ID (`PUT /record/v1/{type}/eid:{externalId}`), so a retry,
a lost response or a crash followed by a re-run finds the record instead of making a second one:
customers by CRM account id, sales orders by `opportunity:vN`, invoices, payments and credit
memos by their billing ids (a void's or write-off's memo by `<invoice>:void|uncollectible`).
Payments and credit memos are read first and only written when absent, because what they apply
to an invoice depends on the invoice's state at the time. An invoice's tax is one more line with
the "Sales tax" item, whose account is the sales tax payable liability (as billing connectors
post it). Amounts travel as exact decimal JSON numbers. The reads (SuiteQL) are inherited from
`netsuite_reads.py`, the internal ids and exchange rates every posting looks up from
`netsuite_lookups.py`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync.connectors.erp_invoices import not_itemized
from sync.connectors.netsuite_billing import bill_order, order_line, period_dates, rev_rec_dates
from sync.connectors.netsuite_change import lower_amended_order, lowers
from sync.connectors.netsuite_closures import TAX_ITEM, closure_lines, credit_lines, memo_fields
from sync.connectors.netsuite_lookups import CREDIT_ITEM, ONE_TIME_ITEM, RECURRING_ITEM
from sync.connectors.netsuite_reads import NetSuiteReads
from sync.connectors.netsuite_transport import RECORDS, SYSTEM
from sync.connectors.revenue_subledger import booked_on, followed
from sync.model import ClosureKind, Contract, CreditNote, Customer, Invoice, InvoiceClosure, Payment
from sync.money import from_minor, to_minor


class NetSuiteErp(NetSuiteReads):
    """Every public method is one posting; `calls` counts the HTTP requests behind them."""

    name = SYSTEM

    # --- the Erp port ----------------------------------------------------------------------

    def upsert_customer(self, customer: Customer, *, currency: str) -> str:
        body: dict[str, Any] = {
            "companyName": customer.name[:83],
            "currency": {"id": self._currency_id(currency)},
            **self.setup.head(with_segments=False),
        }
        if customer.email:
            body["email"] = customer.email
        return self._upsert("customer", customer.crm_account_id, body)

    @followed
    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str:
        return self._sales_order(contract, customer_id)

    def _sales_order(self, contract: Contract, customer_id: str) -> str:
        currency = contract.currency
        lines = [
            {
                "item": {"id": self._item_id(o.product)},
                "description": _description(o.product, o.service_start, o.service_end),
                # The amount is the line's contract value; a rate per billing period would
                # not multiply out to it, so NetSuite is given the quantity and amount only.
                "quantity": o.quantity,
                "amount": from_minor(o.amount_minor, currency),
                **rev_rec_dates(o),
                **({"taxCode": {"id": self.setup.tax_code}} if self.setup.tax_code else {}),
            }
            for o in contract.obligations
        ]
        if lowers(contract):
            return lower_amended_order(self, contract, lines)
        body = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": contract.billing.start.isoformat(),
            "startDate": contract.billing.start.isoformat(),
            "endDate": contract.billing.end.isoformat(),
            "otherRefNum": contract.opportunity_id,
            "memo": f"Salesforce opportunity {contract.opportunity_id} v{contract.version}",
            "item": {"items": lines},
            **self.setup.head(),
        }
        order_id = self._upsert("salesOrder", contract.order_key, body)
        self._order_items[order_id] = [str(line["item"]["id"]) for line in lines]
        return order_id

    @followed
    def post_invoice(
        self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
    ) -> str:
        """Posts the invoice total: its lines, and its tax as a "Sales tax" line. An amount the
        lines don't itemize is refused, never posted as revenue."""
        currency = invoice.currency
        if invoice.unitemized_minor:
            # One posted before this rule (its tax on a line of its own) is left as it is.
            found = self._find("invoice", invoice.billing_id)
            if found is None:
                raise not_itemized(invoice, SYSTEM)
            return found
        # Stripe's line descriptions are one of a kind (periods, quantities), so invoice lines
        # use two standing items and carry the description as text; a line that bills an order
        # line names it and takes the order line's revenue terms.
        lines: list[dict[str, Any]] = []
        for ln in invoice.lines:
            line: dict[str, Any] = {
                "item": {"id": self._item_id(RECURRING_ITEM if ln.recurring else ONE_TIME_ITEM)},
                "description": ln.description[:999], "quantity": 1,
                "amount": from_minor(ln.amount_minor, currency)}
            number = order_line(self, sales_order_id, ln) if sales_order_id else None
            line.update({"orderLine": number} if number else period_dates(ln))
            if self.setup.tax_code:
                line["taxCode"] = {"id": self.setup.tax_code}
            lines.append(line)
        if invoice.tax_minor:
            lines.append({"item": {"id": self._item_id(TAX_ITEM)}, "description": "Sales tax",
                          "quantity": 1, "amount": from_minor(invoice.tax_minor, currency)})
        issued = invoice.issued_on or datetime.now(UTC).date()
        memo = f"Stripe invoice {invoice.billing_id}"
        if sales_order_id:
            memo += f"; sales order {sales_order_id}"
        body: dict[str, Any] = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": issued.isoformat(),
            "dueDate": (invoice.due_on or issued).isoformat(),
            "memo": memo,
            "item": {"items": lines},
            **self.setup.head(),
        }
        body = self._with_rate(body, currency, issued)
        if invoice.number:
            body["tranId"] = invoice.number
        if invoice.opportunity_id:
            body["otherRefNum"] = invoice.opportunity_id
        if sales_order_id:
            erp_id = bill_order(self, sales_order_id, invoice.billing_id, body)
        else:
            erp_id = self._upsert("invoice", invoice.billing_id, body)
        self._invoices[erp_id] = (customer_id, currency)
        return erp_id

    @followed
    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str:
        found = self._find("customerPayment", payment.billing_id)
        if found:
            return found
        customer_id, currency = self._invoice_owner(invoice_id)
        amount = from_minor(payment.amount_minor, payment.currency)
        return self._upsert("customerPayment", payment.billing_id, self._with_rate({
            "customer": {"id": customer_id},
            "currency": {"id": self._currency_id(currency)},
            "tranDate": payment.paid_at.date().isoformat(),
            "payment": amount,
            "memo": f"Stripe payment on invoice {payment.invoice_billing_id}",
            "apply": {"items": [{"doc": {"id": invoice_id}, "apply": True, "amount": amount}]},
        }, currency, payment.paid_at.date()))

    @followed
    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str:
        found = self._find("creditMemo", credit.billing_id)
        if found:
            return found
        invoice = self._get(f"invoice/{invoice_id}")
        customer_id = str(invoice["entity"]["id"])
        remaining = to_minor(Decimal(str(invoice.get("amountRemaining") or 0)), credit.currency)
        # On a paid invoice the credit stays on the customer's account, as Stripe does it.
        applied = min(credit.amount_minor, remaining)
        on, note = booked_on(self.subledger, credit.created_at.date())
        body: dict[str, Any] = {
            "entity": {"id": customer_id},
            "currency": {"id": self._currency_id(credit.currency)},
            "tranDate": on.isoformat(),
            "memo": f"Stripe credit note {credit.billing_id}: {credit.reason}{note}"[:999],
            **self._invoice_rate(invoice),
            "item": {"items": [{"item": {"id": self._item_id(item)}, "description": text[:999],
                                "quantity": 1, "amount": from_minor(minor, credit.currency)}
                               for item, text, minor in credit_lines(
                                   credit, recurring_item=RECURRING_ITEM,
                                   one_time_item=ONE_TIME_ITEM, credit_item=CREDIT_ITEM)]},
        }
        if applied:
            body["apply"] = {"items": [{"doc": {"id": invoice_id}, "apply": True,
                                        "amount": from_minor(applied, credit.currency)}]}
        return self._upsert("creditMemo", credit.billing_id, body)

    @followed
    def close_invoice(self, closure: InvoiceClosure, *, invoice_id: str) -> str:
        """A void of an invoice still fully open transforms it into a credit memo; a void of
        one partly paid, and a write-off, are a credit memo of what is open, split as the ledger
        splits it (see `netsuite_closures`). Read first: the memo applies what is open."""
        found = self._find("creditMemo", closure.key)
        if found:
            return found
        invoice = self._get(f"invoice/{invoice_id}")
        currency = closure.currency
        remaining = to_minor(Decimal(str(invoice.get("amountRemaining") or 0)), currency)
        if remaining <= 0:
            # Nothing open (a void after a write-off): nothing to take out here; the
            # reversal entry (`erp_reversals.py`) moves the bad debt back to revenue.
            return invoice_id
        total = to_minor(Decimal(str(invoice.get("total") or 0)), currency)
        if closure.kind is ClosureKind.VOID and remaining >= total:
            response = self._call("transform invoice", "POST",
                                  f"{RECORDS}/invoice/{invoice_id}/!transform/creditMemo",
                                  body=memo_fields(closure))
            return self._location(response, "creditMemo")
        # A transform would copy the full total and leave the paid part an unapplied credit.
        lines = closure_lines(closure, remaining=remaining, total=total,
                              recurring_item=RECURRING_ITEM, one_time_item=ONE_TIME_ITEM)
        return self._upsert("creditMemo", closure.key, {
            **memo_fields(closure),
            "entity": {"id": str(invoice["entity"]["id"])},
            **self._invoice_rate(invoice),
            "currency": {"id": self._currency_id(currency)},
            "item": {"items": [{"item": {"id": self._item_id(item)}, "description": text[:999],
                                "quantity": 1, "amount": from_minor(minor, currency)}
                               for item, text, minor in lines]},
            "apply": {"items": [{"doc": {"id": invoice_id}, "apply": True,
                                 "amount": from_minor(remaining, currency)}]},
        })


def _description(product: str, start: date, end: date) -> str:
    return f"{product} ({start.isoformat()} to {end.isoformat()})"[:999]
