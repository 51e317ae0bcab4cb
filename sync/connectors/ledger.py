"""`LedgerErp`: the `Erp` port over closebot's embedded ledger (the default ERP).

External ids are the upstream keys: the CRM account id for a customer, `opportunity:vN` for a
sales order (one per contract version, so an amendment is a new order, not an edit), and the
billing ids of invoices, payments and credit notes. The ids it returns are ledger numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sync.ledger import InvoiceLineIn, Ledger, NotFoundError, SalesOrderLineIn, books
from sync.model import Contract, CreditNote, Customer, Invoice, Payment
from sync.ports import LedgerBooks, PostedCredit, PostedInvoice, PostedOrder


class LedgerErp:
    """Every method is one ledger call; `calls` counts them for per-deal benchmarks."""

    name = "ledger"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
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
                amount_minor=o.amount_minor,
                recurring=o.recurring,
                service_start=o.service_start,
                service_end=o.service_end,
                recognition=o.recognition.value,
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

    def post_invoice(
        self, invoice: Invoice, *, customer_id: str, sales_order_id: str | None
    ) -> str:
        """Posts the invoice total. Whatever the lines don't itemize (tax, rounding by the
        biller) becomes one more line, so the receivable always equals what the biller bills."""
        self.calls += 1
        lines = [
            InvoiceLineIn(
                description=ln.description,
                amount_minor=ln.amount_minor,
                recurring=ln.recurring,
                period_start=ln.period_start,
                period_end=ln.period_end,
            )
            for ln in invoice.lines
        ]
        rest = invoice.total_minor - sum(ln.amount_minor for ln in lines)
        if rest:
            lines.append(InvoiceLineIn(description="Not itemized by the biller", amount_minor=rest))
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

    # --- reading the books (the audit) -----------------------------------------------------

    def posted_invoices(self) -> list[PostedInvoice]:
        """Receivables as the general ledger holds them, traced to their invoices."""
        return list(self.ledger.read(books.posted_invoices))

    def posted_credits(self) -> list[PostedCredit]:
        return list(self.ledger.read(books.posted_credits))

    def sales_orders(self) -> list[PostedOrder]:
        return list(self.ledger.read(books.sales_orders))

    def ledger_books(self) -> LedgerBooks:
        return self.ledger.read(books.books)  # type: ignore[no-any-return]

    def duplicate_external_ids(self) -> list[tuple[str, str]]:
        return self.ledger.duplicate_external_ids()

    def unbalanced_entries(self) -> list[str]:
        return self.ledger.unbalanced_entries()
