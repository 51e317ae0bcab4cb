"""`LedgerErp`: the `Erp` port over closebot's embedded ledger (the default ERP).

External ids are the upstream keys: the CRM account id for a customer, `opportunity:vN` for a
sales order (one per contract version, so an amendment is a new order, not an edit), and the
billing ids of invoices, payments and credit notes, and `<invoice>:void` /
`<invoice>:uncollectible` for a closed invoice. The ids it returns are ledger numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime

from sync.connectors.erp_invoices import not_itemized
from sync.errors import PermanentError
from sync.ledger import (
    InvoiceLineIn,
    Ledger,
    LedgerError,
    NotFoundError,
    SalesOrderLineIn,
    audit_view,
)
from sync.model import (
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceClosure,
    Payment,
    Recognition,
)
from sync.ports import (
    ErpCustomer,
    ErpInvoice,
    LedgerBooks,
    PostedCredit,
    PostedInvoice,
    PostedOrder,
    PostedReversal,
)

PAGE = 500

SYSTEM = "ledger"
# Who the audit log says marked a delivery that Salesforce's Delivered On gave.
CRM_DELIVERY = "Salesforce (Delivered On)"


class LedgerErp:
    """Every method is one ledger call; `calls` counts them for per-deal benchmarks."""

    name = SYSTEM

    def __init__(self, ledger: Ledger, *, recognize_on_delivery: bool = False) -> None:
        self.ledger = ledger
        # Point-in-time obligations wait for a delivery instead of recognizing at their start.
        self.recognize_on_delivery = recognize_on_delivery
        self.calls: int = 0
        # Numbers never change once given, so the adapter remembers the ones it handed out.
        self._numbers: dict[str, str] = {}

    def _remember(self, number: str, external_id: str) -> str:
        if len(self._numbers) > 100_000:
            self._numbers.clear()
        self._numbers[number] = external_id
        return number

    def _external_id(self, ref: str, what: str) -> str:
        """Accept the ledger number this adapter handed out (or an external id as is)."""
        if ref in self._numbers:
            return self._numbers[ref]
        external_id = self.ledger.external_id_for(ref)
        if external_id is None and ref.partition("-")[0] in {"CUST", "SO"}:
            raise NotFoundError(f"no {what} numbered {ref}")
        return external_id or ref

    def upsert_customer(self, customer: Customer, *, currency: str) -> str:
        self.calls += 1
        number = self.ledger.upsert_customer(
            external_id=customer.crm_account_id, name=customer.name, currency=currency
        )
        return self._remember(number, customer.crm_account_id)

    def upsert_sales_order(self, contract: Contract, *, customer_id: str) -> str:
        self.calls += 1
        lines = [
            SalesOrderLineIn(
                external_id=o.line_id,
                description=o.product,
                amount_minor=o.revenue_minor,
                contract_minor=None if o.allocated_minor is None else o.amount_minor,
                recurring=o.recurring,
                # A delivery day from the CRM (Delivered On) is when it is recognized.
                service_start=o.delivered_on or o.service_start,
                service_end=max(o.delivered_on or o.service_start, o.service_end),
                recognition=o.recognition.value,
                awaiting_delivery=self.recognize_on_delivery and o.delivered_on is None,
                milestones=o.milestones,
            )
            for o in contract.obligations
        ]
        key = contract.order_key
        number = self.ledger.upsert_sales_order(
            external_id=key,
            customer_external_id=self._external_id(customer_id, "customer"),
            currency=contract.currency,
            lines=lines,
        )
        return self._remember(number, key)

    def deliver_from_crm(self, contract: Contract, *, today: date) -> int:
        """Move each point-in-time obligation not recognized yet to its Delivered On day;
        returns how many moved (0 on a replay). A day to come waits for that day."""
        dated = {o.product.casefold(): o.delivered_on for o in contract.obligations
                 if o.recognition is Recognition.POINT_IN_TIME and o.delivered_on is not None}
        moved = 0
        for waiting in self.ledger.deliverables(contract.opportunity_id) if dated else []:
            on = dated.get(waiting.product.casefold())
            if on is not None and waiting.on != on:
                self.ledger.mark_delivered(
                    opportunity_id=contract.opportunity_id, product=waiting.product, on=on,
                    by=CRM_DELIVERY, today=max(today, on))
                moved += 1
        return moved

    def replan(self, *, opportunity_id: str, effective: date, remaining: Mapping[str, int],
               catch_up: Mapping[str, int]) -> int:
        """The deal's schedules re-planned to a modification's classification (ASC 606)."""
        self.calls += 1
        try:
            return self.ledger.replan(opportunity_id=opportunity_id, effective=effective,
                                      remaining=remaining, catch_up=catch_up)
        except LedgerError as refused:
            raise PermanentError(f"Revenue schedule re-plan for the contract change: {refused}",
                                 system=SYSTEM) from None

    def post_invoice(
        self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
    ) -> str:
        """Posts the invoice total: its lines to deferred revenue, their tax to sales tax
        payable. An amount the lines don't itemize is refused, never parked anywhere."""
        self.calls += 1
        if invoice.unitemized_minor and self.ledger.invoice(invoice.billing_id) is None:
            raise not_itemized(invoice, SYSTEM)
        lines = [
            InvoiceLineIn(
                description=ln.description,
                amount_minor=ln.amount_minor,
                recurring=ln.recurring,
                period_start=ln.period_start,
                period_end=ln.period_end,
                tax_minor=ln.tax_minor,
                obligation=ln.obligation_id,
            )
            for ln in invoice.lines
        ]
        issued_on = invoice.issued_on or datetime.now(UTC).date()
        return self.ledger.post_invoice(
            external_id=invoice.billing_id,
            customer_external_id=self._external_id(customer_id, "customer"),
            sales_order_external_id=(
                self._external_id(sales_order_id, "sales order") if sales_order_id else None
            ),
            number=invoice.number,
            currency=invoice.currency,
            issued_on=issued_on,
            due_on=invoice.due_on or issued_on,
            lines=lines,
        )

    def apply_payment(self, payment: Payment, *, invoice_id: str) -> str:
        # The payment names its invoice by billing id, the invoice's external id in the ledger.
        self.calls += 1
        return self.ledger.apply_payment(
            external_id=payment.billing_id,
            invoice_external_id=payment.invoice_billing_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            paid_on=payment.paid_at.date(),
        )

    def close_invoice(self, closure: InvoiceClosure, *, invoice_id: str) -> str:
        """The ledger reverses what it actually recognized on the invoice (its own schedules),
        so the closure's earned estimate is not needed here."""
        self.calls += 1
        return self.ledger.close_invoice(
            external_id=closure.key,
            invoice_external_id=closure.invoice_billing_id,
            kind=closure.kind.value,
            posted_on=closure.closed_on,
        )

    def post_credit_memo(self, credit: CreditNote, *, invoice_id: str) -> str:
        self.calls += 1
        return self.ledger.post_credit_memo(
            external_id=credit.billing_id,
            invoice_external_id=credit.invoice_billing_id,
            amount_minor=credit.amount_minor,
            currency=credit.currency,
            reason=credit.reason,
            posted_on=credit.created_at.date(),
        )

    # --- reading the books (the go-live import and the audit) -------------------------------

    def customers(self) -> Iterator[list[ErpCustomer]]:
        after = 0
        while rows := self.ledger.customers_after(after, PAGE):
            yield [ErpCustomer(id=r.number, name=r.name, external_id=r.external_id)
                   for r in rows]
            after = rows[-1].id

    def open_invoices(self) -> Iterator[list[ErpInvoice]]:
        after: int | None = 0
        while after is not None:
            rows, after = self.ledger.open_invoices_after(after, PAGE)
            if rows:
                yield [ErpInvoice(id=r.number, number=r.billing_number,
                                  customer_id=r.customer_number, currency=r.currency,
                                  total_minor=r.total_minor, open_minor=r.open_minor,
                                  external_id=r.external_id, due_on=r.due_on) for r in rows]

    def posted_invoices(self) -> list[PostedInvoice]:
        """Receivables as the general ledger holds them, traced to their invoices."""
        return list(self.ledger.read(audit_view.posted_invoices))

    def posted_credits(self) -> list[PostedCredit]:
        return list(self.ledger.read(audit_view.posted_credits))

    def sales_orders(self) -> list[PostedOrder]:
        return list(self.ledger.read(audit_view.sales_orders))

    def ledger_books(self) -> LedgerBooks:
        return self.ledger.read(audit_view.books)  # type: ignore[no-any-return]

    def revenue_reversals(self) -> list[PostedReversal]:
        return []  # a void's reversal is in the void's own entry, read with the general ledger

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        return self.ledger.duplicate_external_ids()

    def unbalanced_entries(self) -> list[str]:
        return self.ledger.unbalanced_entries()
