"""What settles an invoice: payments and credit memos, each with its own journal entry."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerInvoice,
    LedgerJournalEntry,
    LedgerPayment,
    LedgerRevenueSchedule,
)
from sync.ledger import accounts as acct
from sync.ledger import fx, periods
from sync.ledger.errors import OverCreditError, OverpaymentError
from sync.ledger.journal import Leg, next_number, post_entry
from sync.ledger.records import check_amount, check_currency, closed, open_balance
from sync.ledger.replan import take_from_deferred
from sync.money import format_money


def create_payment(
    session: Session,
    *,
    external_id: str,
    invoice: LedgerInvoice,
    amount_minor: int,
    currency: str,
    paid_on: date,
    paid_from: str = acct.STRIPE_CLEARING,
) -> LedgerPayment:
    """Dr Stripe Clearing / Cr Accounts Receivable.

    The debit is the clearing account, not cash: Stripe money is cash only once its payout lands
    in the bank, which the payout reconciliation posts. The customer's credit settling an
    invoice is the same settlement paid from Customer Credit Balances (`paid_from`). The caller
    holds the invoice row locked, so two concurrent payments can't both fit in the same open
    balance.
    """
    check_amount(amount_minor, positive=True)
    check_currency(currency, expected=invoice.currency)
    remaining = open_balance(session, invoice)
    if amount_minor > remaining and closed(session, invoice.id):
        # A recovery of a written-off (or voided) receivable is a judgment call, not a posting.
        raise OverpaymentError(
            f"payment {external_id} of {format_money(amount_minor, currency)} arrived on invoice "
            f"{invoice.number}, which was voided or written off; book the recovery by hand"
        )
    if amount_minor > remaining:
        raise OverpaymentError(
            f"payment {external_id} of {format_money(amount_minor, currency)} exceeds the open "
            f"balance {format_money(remaining, currency)} of invoice {invoice.number}"
        )
    new_id, number = next_number(session, LedgerPayment.__tablename__)
    entry = post_entry(
        session, external_id=f"payment:{external_id}", memo=f"{number} on {invoice.number}",
        posted_on=paid_on, currency=currency, source_type="payment", source_ref=external_id,
        legs=[
            Leg(paid_from, debit=amount_minor),
            Leg(acct.RECEIVABLE, credit=amount_minor),
        ],
        functional=fx.payment_legs(session, invoice, amount_minor, acct.STRIPE_CLEARING, paid_on),
    )
    payment = LedgerPayment(
        id=new_id, number=number, external_id=external_id, invoice_id=invoice.id,
        amount_minor=amount_minor, currency=currency, paid_on=paid_on, journal_entry_id=entry.id,
    )
    session.add(payment)
    session.flush()
    return payment


def create_credit_memo(
    session: Session,
    *,
    external_id: str,
    invoice: LedgerInvoice,
    amount_minor: int,
    currency: str,
    reason: str,
    posted_on: date,
) -> LedgerCreditMemo:
    """Dr Deferred Revenue for the unearned part, Dr Credits & Allowances for the rest; Cr AR
    up to the open balance, Cr Customer Credit for the rest.

    The unearned part is what the invoice's obligations still had to recognize after
    `posted_on` (the first open day, if that day's period is closed); their schedules shrink by
    it (`sync.ledger.replan`), so recognized + deferred stays equal to the net price. Only a
    credit beyond that touches revenue (contra revenue). A credit booked after some of those
    days were recognized takes their share back from revenue on the day each was recognized
    (`_unrecognize`): no month keeps revenue for service the credit took away, and none loses
    revenue it earned.
    A credit on an unpaid invoice reduces what the customer owes. On a paid one nothing is owed,
    so the excess becomes a balance the company owes the customer (refund or future invoices).
    Credits can't add up to more than the invoice itself.
    """
    check_amount(amount_minor, positive=True)
    check_currency(currency, expected=invoice.currency)
    credited = session.scalar(
        select(func.coalesce(func.sum(LedgerCreditMemo.amount_minor), 0))
        .where(LedgerCreditMemo.invoice_id == invoice.id)
    )
    if int(credited or 0) + amount_minor > invoice.total_minor:
        raise OverCreditError(
            f"credit {external_id} of {format_money(amount_minor, currency)} would take credits "
            f"on invoice {invoice.number} past its total "
            f"{format_money(invoice.total_minor, currency)}"
        )
    to_receivable = min(amount_minor, max(open_balance(session, invoice), 0))
    excess = amount_minor - to_receivable
    unearned, recognized = take_from_deferred(session, invoice, amount_minor,
                                              periods.posting_day(session, posted_on)[0])
    legs = [Leg(acct.DEFERRED_REVENUE, debit=unearned)] if unearned else []
    if amount_minor > unearned:
        legs.append(Leg(acct.CREDITS_ALLOWANCES, debit=amount_minor - unearned))
    if to_receivable:
        legs.append(Leg(acct.RECEIVABLE, credit=to_receivable))
    if excess:
        legs.append(Leg(acct.CUSTOMER_CREDIT, credit=excess))
    new_id, number = next_number(session, LedgerCreditMemo.__tablename__)
    entry = post_entry(
        session, external_id=f"credit_memo:{external_id}", memo=f"{number} on {invoice.number}",
        posted_on=posted_on, currency=currency, source_type="credit_memo",
        source_ref=external_id, legs=legs, functional=fx.at_invoice_rate(session, invoice, legs),
    )
    memo = LedgerCreditMemo(
        id=new_id, number=number, external_id=external_id, invoice_id=invoice.id,
        amount_minor=amount_minor, to_receivable_minor=to_receivable,
        to_customer_credit_minor=excess, currency=currency, reason=reason[:500],
        posted_on=posted_on, journal_entry_id=entry.id,
    )
    session.add(memo)
    session.flush()
    _unrecognize(session, external_id, invoice, recognized)
    return memo


def _unrecognize(session: Session, external_id: str, invoice: LedgerInvoice,
                 recognized: dict[LedgerRevenueSchedule, int]) -> None:
    """Dr revenue / Cr Deferred Revenue for what the credit took from rows already recognized,
    each on its row's recognition day (a recognition entry of its own, so reports and the close
    count it as less revenue recognized, against the obligation it belongs to)."""
    for row, amount in sorted(recognized.items(), key=lambda item: item[0].id):
        entry = session.get(LedgerJournalEntry, row.journal_entry_id)
        legs = [Leg(row.revenue_account, debit=amount), Leg(acct.DEFERRED_REVENUE, credit=amount)]
        post_entry(
            session, external_id=f"credit_memo:{external_id}:unrecognized:{row.id}",
            memo=f"revenue of period {row.period_no} taken back by credit {external_id}",
            posted_on=entry.posted_on if entry else row.recognize_on, currency=row.currency,
            source_type="revenue_schedule", source_ref=str(row.id), legs=legs,
            functional=fx.at_invoice_rate(session, invoice, legs))
