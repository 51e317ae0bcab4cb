"""Wrong outcomes planted straight into the books and the emulators, for the money audit's
tests: each is what an earlier booking produced, written directly now that the booking itself
is right (docs/architecture.md, "Voids, write-offs and tax" and "Credits")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.stack import SandboxStack
from storage.db import transaction
from storage.ledger import LedgerCreditMemo, LedgerInvoice
from sync.connectors import revenue_subledger, stripe_amend
from sync.engine import post_load
from sync.errors import PermanentError
from sync.ledger import accounts as acct
from sync.ledger.journal import Leg, next_number, post_entry
from sync.model import CreditNote


def void_the_erp_never_heard_of(stack: SandboxStack, opp: str, invoice_id: str) -> None:
    """Stripe voids the invoice and Salesforce shows it (Void, nothing outstanding), but no event
    reaches closebot, so the ERP still invoices it and holds it receivable."""
    with stack.stripe.state.lock:
        inv = stack.stripe.state.get("invoice", invoice_id)
        inv.update(status="void", next_payment_attempt=None, auto_advance=False)
        inv["status_transitions"]["voided_at"] = stack.stripe.state.now
    stack.salesforce.update("Opportunity", opp, {"Invoice_Status__c": "Void",
                                                 "Outstanding_Balance__c": Decimal(0)})


def credit_to_revenue(sessions: sessionmaker[Session], note: CreditNote) -> None:
    """The credit memo for `note` booked whole to contra revenue (Dr Credits & Allowances /
    Cr AR) on the note's day, its invoice's schedule left as it was."""
    on = note.created_at.date()
    with transaction(sessions) as session:
        invoice = _invoice(session, note.invoice_billing_id)
        new_id, number = next_number(session, LedgerCreditMemo.__tablename__)
        entry = post_entry(
            session, external_id=f"credit_memo:{note.billing_id}", memo=f"{number} planted",
            posted_on=on, currency=note.currency, source_type="credit_memo",
            source_ref=note.billing_id, legs=[
                Leg(acct.CREDITS_ALLOWANCES, debit=note.amount_minor),
                Leg(acct.RECEIVABLE, credit=note.amount_minor)])
        session.add(LedgerCreditMemo(
            id=new_id, number=number, external_id=note.billing_id, invoice_id=invoice.id,
            amount_minor=note.amount_minor, to_receivable_minor=note.amount_minor,
            to_customer_credit_minor=0, currency=note.currency, reason=note.reason,
            posted_on=on, journal_entry_id=entry.id))


def tax_in_deferred_revenue(sessions: sessionmaker[Session], invoice_id: str, tax: int) -> None:
    """The invoice's tax moved from Sales Tax Payable to Deferred Revenue, where no schedule
    will ever release it."""
    with transaction(sessions) as session:
        invoice = _invoice(session, invoice_id)
        post_entry(session, external_id=f"planted-tax:{invoice_id}", memo="tax planted",
                   posted_on=invoice.issued_on, currency=invoice.currency,
                   source_type="invoice", source_ref=invoice_id, legs=[
                       Leg(acct.SALES_TAX_PAYABLE, debit=tax),
                       Leg(acct.DEFERRED_REVENUE, credit=tax)])


def billed_through(stack: SandboxStack, until: datetime) -> None:
    """The one subscription and its invoice's recurring line billed through `until` (the
    subscription ends there), as if the term had not been aligned to the contract."""
    stamp = int(until.timestamp())
    with stack.stripe.state.lock:
        (sub,) = stack.stripe.state.all("subscription")
        sub["cancel_at"] = stamp
        for item in sub["items"]["data"]:
            item["current_period_end"] = stamp
        for inv in stack.stripe.state.all("invoice"):
            for line in inv["lines"]["data"]:
                if line["period"]["end"] > line["period"]["start"]:
                    line["period"]["end"] = stamp


def _invoice(session: Session, external_id: str) -> LedgerInvoice:
    return session.scalars(select(LedgerInvoice)
                           .where(LedgerInvoice.external_id == external_id)).one()


def void_reversal_not_posted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A void's revenue reversal never reaches NetSuite or Sage Intacct, as a void after a
    write-off once went: the subledger follows the void (the write-off's bad debt moved back to
    revenue and reversed), the ERP books nothing and keeps the write-off's revenue and bad
    debt."""
    monkeypatch.setattr(revenue_subledger, "post_reversal", lambda *args: None)


def amendments_billed_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stripe takes an amendment's new prices without billing the difference for the rest of
    the current period (no proration, as the booking once moved a subscription)."""
    monkeypatch.setattr(stripe_amend, "_net_proration", lambda *args: 0)


def change_orders_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ERP step of every amendment fails for good (as a decrease once stopped it), while
    Stripe goes on billing the new version."""
    def refuse(*args: object) -> None:
        raise PermanentError("planted: the change order is refused", system="erp")
    monkeypatch.setattr(post_load, "change_order", refuse)
