"""The recording billing connector of the dry run: the subscription, invoice and customer the
billing system would create, with the first invoice as it would issue it; reads pass through."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from sync.dates import add_months
from sync.model import (
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Obligation,
    Payment,
)
from sync.money import format_money
from sync.ops.recording import Recorder, line_details
from sync.ports import (
    Billing,
    BillingCustomer,
    BillingResult,
    BillingSubscription,
    EventPage,
)

TIMES = "\u00d7"  # as Stripe writes quantities on invoice lines
BILLED = {"monthly": "monthly", "quarterly": "quarterly", "annual": "annually"}
PER = {"monthly": "a month", "quarterly": "a quarter", "annual": "a year"}


class RecordingBilling:
    def __init__(self, real: Billing, recorder: Recorder) -> None:
        self.real, self.rec = real, recorder

    def ensure_customer(self, customer: Customer, *, key: str, lookup: bool) -> str:
        details = tuple(x for x in (customer.email and f"billing email {customer.email}",
                                    f"Salesforce account {customer.crm_account_id}") if x)
        return self.rec.add("stripe", "create", "customer", self.rec.new_id("cus_DRYRUN{n:04d}"),
                            customer.name, details=details)

    def ensure_contract(self, contract: Contract, *, customer_id: str, key: str,
                        lookup: bool) -> BillingResult:
        subscription = None
        if contract.recurring:
            subscription = self._subscription("create", contract, None)
        fees = contract.one_time
        invoice = self._invoice(contract, customer_id, subscription, contract.recurring, fees)
        return BillingResult(subscription_id=subscription, invoices=[invoice])

    def amend_contract(self, contract: Contract, *, subscription_id: str,
                       new_fees: Sequence[Obligation], key: str, effective: date
                       ) -> BillingResult:
        self._subscription("update", contract, subscription_id, effective)
        invoices = []
        if new_fees:
            invoices.append(self._invoice(contract, "", subscription_id, (), tuple(new_fees)))
        return BillingResult(subscription_id=subscription_id, invoices=invoices,
                             effective_on=effective)

    def renew_contract(self, contract: Contract, *, subscription_id: str,
                       key: str) -> BillingResult:
        """The renewed subscription continues: Stripe bills the renewal when its phase starts."""
        self._subscription("update", contract, subscription_id, contract.billing.start)
        return BillingResult(subscription_id=subscription_id, invoices=[])

    def cancel_contract(self, contract: Contract, *, subscription_id: str,
                        key: str) -> BillingResult:
        assert contract.canceled_on is not None
        ends = contract.canceled_on + timedelta(days=1)
        self.rec.add("stripe", "update", "subscription", subscription_id,
                     f"canceled from {ends}", currency=contract.currency, amount_minor=0,
                     details=(f"no invoice after {contract.canceled_on}",))
        return BillingResult(subscription_id=subscription_id, invoices=[], effective_on=ends)

    def _subscription(self, action: str, contract: Contract, ref: str | None,
                      effective: date | None = None) -> str:
        per, currency = PER[contract.billing.cadence.value], contract.currency
        details = [f"{o.product}: {o.quantity} {TIMES} {format_money(o.unit_minor, currency)} {per}"
                   for o in contract.recurring]
        details.append(f"from {contract.billing.start} to {contract.billing.end}, "
                       f"due {_terms(contract.billing.payment_terms_days)}")
        if effective:
            details.append(f"new prices from {effective}: a higher price's prorated difference "
                           "for the rest of the current period is invoiced at once, a lower "
                           "one's credited on the invoice that billed it")
        return self.rec.add(
            "stripe", action, "subscription", ref or self.rec.new_id("sub_DRYRUN{n:04d}"),
            f"billed {BILLED[contract.billing.cadence.value]}", currency=currency,
            amount_minor=sum(o.period_amount_minor for o in contract.recurring),
            details=tuple(details))

    def _invoice(self, contract: Contract, customer_id: str, subscription: str | None,
                 recurring: Sequence[Obligation], fees: Sequence[Obligation]) -> Invoice:
        """The first invoice as the billing system would issue it: one period of each recurring
        line and the one-time fees."""
        start = contract.billing.start
        period_end = add_months(start, contract.billing.cadence.months) - timedelta(days=1)
        # Lines name their product, as Stripe's do, so the post step can match each to its
        # obligation exactly as it will for the real invoice.
        lines = [InvoiceLine(description=f"{o.quantity} {TIMES} {o.product}",
                             amount_minor=o.period_amount_minor, recurring=True,
                             period_start=start, period_end=period_end, product=o.product)
                 for o in recurring]
        lines += [InvoiceLine(description=f"{o.quantity} {TIMES} {o.product}",
                              amount_minor=o.amount_minor, recurring=False, product=o.product)
                  for o in fees]
        total = sum(line.amount_minor for line in lines)
        issued = max(start, self.rec.now().date())
        invoice = Invoice(
            billing_id=self.rec.new_id("in_DRYRUN{n:04d}"),
            number=self.rec.new_id("DRYRUN-{n:04d}"), billing_customer_id=customer_id,
            subscription_id=subscription, opportunity_id=contract.opportunity_id,
            contract_version=contract.version, currency=contract.currency, total_minor=total,
            amount_due_minor=total, amount_paid_minor=0, amount_remaining_minor=total,
            status=InvoiceStatus.OPEN, issued_on=issued,
            due_on=issued + timedelta(days=contract.billing.payment_terms_days),
            lines=tuple(lines))
        self.rec.add("stripe", "create", "invoice", invoice.billing_id, str(invoice.number),
                     currency=invoice.currency, amount_minor=total,
                     details=(*line_details(invoice),
                              f"issued {invoice.issued_on}, due {invoice.due_on}"))
        return invoice

    def subscription(self, subscription_id: str) -> BillingResult:
        return self.real.subscription(subscription_id)

    def invoice(self, invoice_id: str) -> Invoice:
        return self.real.invoice(invoice_id)

    def customers(self) -> Iterator[list[BillingCustomer]]:
        return self.real.customers()

    def subscriptions(self) -> Iterator[list[BillingSubscription]]:
        return self.real.subscriptions()

    def open_invoices(self) -> Iterator[list[Invoice]]:
        return self.real.open_invoices()

    def payments_for(self, invoice: Invoice) -> list[Payment]:
        return self.real.payments_for(invoice)

    def credit_invoice(self, invoice_id: str, *, amount_minor: int, reason: str,
                       key: str) -> CreditNote:
        current = self.real.invoice(invoice_id)
        ref = self.rec.add("stripe", "create", "credit note",
                           self.rec.new_id("cn_DRYRUN{n:04d}"), f"on {current.number}",
                           currency=current.currency, amount_minor=amount_minor,
                           details=(reason,))
        return CreditNote(billing_id=ref, invoice_billing_id=invoice_id,
                          amount_minor=amount_minor, currency=current.currency, reason=reason,
                          created_at=self.rec.now())

    def events(self, *, created_gte: int | None, starting_after: str | None = None) -> EventPage:
        return EventPage(events=[], has_more=False)


def _terms(days: int) -> str:
    return f"Net {days}" if days else "on receipt"
