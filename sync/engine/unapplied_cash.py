"""The post step's share of unapplied cash: an overpayment Stripe credited to the customer, and
the customer's credit Stripe used on a later invoice, booked in the ERP's cash books
(`sync.ports_cash.UnappliedCash`) by keys derived from the invoice, so a replay books nothing
twice."""

from __future__ import annotations

from storage.db import transaction
from sync.cash.application import credit_application_of, overpayment_of
from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import Runtime
from sync.errors import PermanentError
from sync.model import Invoice
from sync.money import format_money
from sync.ports_cash import UnappliedCash


def book_unapplied(rt: Runtime, invoice: Invoice, *, erp_invoice: str) -> None:
    now = rt.now()
    overpayment = overpayment_of(invoice, now=now)
    application = credit_application_of(invoice, now=now)
    if overpayment is None and application is None:
        return
    cash = rt.cash
    if rt.entity_cash and invoice.opportunity_id:
        # An entity's own Stripe account credited the customer: its books keep the credit.
        with transaction(rt.sessions) as session:
            entity = entities_of(session, [invoice.opportunity_id]).get(invoice.opportunity_id)
        cash = rt.cash_for(entity)
    books = cash.erp if cash is not None else None
    if not isinstance(books, UnappliedCash):
        if overpayment is not None:
            what, amount = "was overpaid by", overpayment.amount_minor
        else:
            assert application is not None
            what, amount = "used the customer's credit of", application.amount_minor
        raise PermanentError(
            f"Stripe invoice {invoice.number or invoice.billing_id} {what} "
            f"{format_money(amount, invoice.currency)}; closebot can't book customer credit "
            f"in {rt.erp.name} yet: record it there by hand, then mark this resolved",
            system="erp")
    if overpayment is not None:
        books.record_overpayment(overpayment, erp_invoice=erp_invoice)
    if application is not None:
        books.apply_credit(application, erp_invoice=erp_invoice)
