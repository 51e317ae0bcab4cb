"""Payout reconciliation: every payout decomposed into its balance transactions, each posted by
its own external ID, then the payout itself (Dr Cash / Cr Clearing) once it is paid and its
transactions add up to it. Clearing for a settled payout then nets to zero.

Transactions are read a page at a time and only running totals are kept, so a month of payouts
never sits in memory. What can't be booked becomes a `CashProblem` for a person; the rest of
the payout still posts, so one bad line never holds the others back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sync.cash.postings import CashInputError, dispute_loss, for_transaction, needs_invoice
from sync.errors import PermanentError
from sync.money import format_money
from sync.ports_cash import (
    CASH,
    CHARGE,
    CLEARING,
    PAYOUT,
    REFUND,
    BalanceTxn,
    CashDispute,
    CashErp,
    CashPayout,
    CashPosting,
    CashReads,
    Customers,
    DepositLine,
    Leg,
    no_customers,
)

# Entries posted per ERP call: a payout of up to 1,000 transactions in one transaction (memory
# stays bounded; each ERP call has a fixed cost that 100 a call paid ten times as often).
PAGE = 1_000


@dataclass(frozen=True)
class CashProblem:
    subject: str  # the billing object a person should look at (payout, transaction, dispute)
    reason: str


@dataclass
class PayoutOutcome:
    payout_id: str
    transactions: int = 0
    settled: bool = False  # the payout's own entry is posted
    problems: list[CashProblem] = field(default_factory=list)


def _unknown_invoice(txn: BalanceTxn) -> str:
    money = format_money(abs(txn.amount_minor), txn.currency)
    if txn.category == CHARGE:
        return (
            f"Stripe charge {txn.source_id} of {money} is on no invoice closebot posted (a "
            "payment made before go-live, or outside closebot). Its fee is booked; apply the "
            f"{money} to the customer's invoice in the ERP by hand "
            "(Dr Stripe Clearing / Cr Accounts Receivable)."
        )
    return (
        f"Stripe {txn.category.replace('_', ' ')} {txn.source_id} of {money} is for a charge on "
        "no invoice closebot posted (made before go-live, or outside closebot). Nothing is booked "
        f"for it: record it against the customer in the ERP by hand ({money} out of Stripe "
        "Clearing)."
    )


def all_paid(invoice_id: str) -> bool:
    return True


def is_known(erp: CashErp, txn: BalanceTxn, customers: Customers) -> bool:
    """The invoice the money was for is in the ERP; for a charge, its customer is one closebot
    bills (its gross came in with that invoice's payment)."""
    if txn.invoice_id is not None:
        return erp.has_invoice(txn.invoice_id)
    return txn.category == CHARGE and txn.customer_id is not None and customers(txn.customer_id)


def post_transaction(
    erp: CashErp, txn: BalanceTxn, customers: Customers = no_customers,
    batch: list[CashPosting] | None = None, paid: Customers = all_paid,
) -> CashProblem | None:
    """Post one balance transaction's entry (once); a problem instead when it can't be. With
    `batch`, a plain entry (no credit memo to take first) joins it, for `flush` to post.
    `paid` says whether an invoice's payment is in the ERP: a refund's credit memo waits for
    it, or the payment, arriving second, would overpay an invoice the memo already closed."""
    try:
        posting = for_transaction(txn)
    except CashInputError as exc:
        return CashProblem(txn.id, exc.reason)
    known = is_known(erp, txn, customers)
    if needs_invoice(txn) and not known and txn.category != CHARGE:
        return CashProblem(txn.id, _unknown_invoice(txn))
    if posting is not None and posting.credit_invoice and not paid(posting.credit_invoice[1]):
        return CashProblem(txn.id, (
            f"Stripe refund {txn.source_id} of {format_money(-txn.amount_minor, txn.currency)} "
            f"waits for invoice {posting.credit_invoice[1]}'s payment to reach the ERP; it is "
            "booked by the next cash run after that. Nothing to do unless it stays."
        ))
    try:
        if posting is not None and batch is not None and posting.credit_invoice is None:
            batch.append(posting)
        elif posting is not None:
            erp.post_cash(posting)
    except PermanentError as exc:
        if txn.category != REFUND:
            return CashProblem(txn.id, exc.reason)
        return CashProblem(txn.id, (
            f"Stripe refund {txn.source_id} of {format_money(-txn.amount_minor, txn.currency)} "
            f"can't be credited to invoice {txn.invoice_id}: {exc.reason}. Nothing is booked for "
            "it; check the refund in Stripe and book it by hand."
        ))
    if needs_invoice(txn) and not known:
        return CashProblem(txn.id, _unknown_invoice(txn))
    return None


def flush(erp: CashErp, batch: list[CashPosting]) -> list[CashProblem]:
    """Post a page's plain entries in one go; one by one if the ERP refuses the lot, so only
    the entry at fault becomes a problem."""
    try:
        erp.post_many(batch)
        return []
    except PermanentError:
        problems = []
        for posting in batch:
            try:
                erp.post_cash(posting)
            except PermanentError as exc:
                problems.append(CashProblem(posting.source_ref, exc.reason))
        return problems
    finally:
        batch.clear()


def payout_posting(payout: CashPayout, lines: tuple[DepositLine, ...] = ()) -> CashPosting:
    """Dr Cash / Cr Stripe Clearing for what the bank receives, itemized by `lines`."""
    return CashPosting(
        external_id=f"stripe:{payout.id}", memo=f"payout {payout.id}",
        posted_on=payout.arrival_on, currency=payout.currency, source_ref=payout.id,
        legs=(Leg(CASH, debit=payout.amount_minor), Leg(CLEARING, credit=payout.amount_minor)),
        deposit_lines=lines,
    )


def deposit_lines(txn: BalanceTxn) -> list[DepositLine]:
    """What a transaction added to its payout: its amount, and the fee taken from it apart."""
    what = f"{txn.category.replace('_', ' ')} {txn.source_id or txn.id}"
    lines = [DepositLine(txn.amount_minor, f"Stripe {what}")] if txn.amount_minor else []
    if txn.fee_minor:
        lines.append(DepositLine(-txn.fee_minor, f"Stripe fee on {what}"))
    return lines


def reconcile_payout(
    reads: CashReads, erp: CashErp, payout: CashPayout, customers: Customers = no_customers,
    paid: Customers = all_paid,
) -> PayoutOutcome:
    outcome = PayoutOutcome(payout.id)
    settled_net = 0
    batch: list[CashPosting] = []
    # One payout's lines (Stripe's automatic payouts settle a day's transactions), not a month's.
    lines: list[DepositLine] = []
    for txn in reads.payout_transactions(payout.id):
        if txn.category == PAYOUT:
            continue  # the payout's own movement: posted below, from the payout
        outcome.transactions += 1
        settled_net += txn.net_minor
        lines += deposit_lines(txn)
        problem = post_transaction(erp, txn, customers, batch, paid)
        if problem is not None:
            outcome.problems.append(problem)
        if len(batch) >= PAGE:
            outcome.problems += flush(erp, batch)
    if payout.status == "paid" and settled_net != payout.amount_minor:
        outcome.problems.append(CashProblem(payout.id, (
            f"Stripe payout {payout.id} of {format_money(payout.amount_minor, payout.currency)} "
            f"(arriving {payout.arrival_on.isoformat()}) doesn't add up: its "
            f"{outcome.transactions} balance transactions net to "
            f"{format_money(settled_net, payout.currency)}. The payout isn't booked; ask Stripe "
            "support which transactions it settled, then Retry."
        )))
    elif payout.status == "paid":
        # With the payout's last page of entries: one ERP call (one ledger transaction) less
        # per payout. It is booked only if the ERP took it (a refused lot is posted one by one).
        batch.append(payout_posting(payout, tuple(lines)))
        outcome.settled = True
    refused = flush(erp, batch)
    outcome.problems += refused
    outcome.settled = outcome.settled and all(p.subject != payout.id for p in refused)
    return outcome


def reconcile_payouts(
    reads: CashReads, erp: CashErp, *, arrival_gte: date | None = None,
    customers: Customers = no_customers, paid: Customers = all_paid,
) -> Iterator[PayoutOutcome]:
    for payout in reads.payouts(arrival_gte=arrival_gte):
        yield reconcile_payout(reads, erp, payout, customers, paid)


def reconcile_dispute(
    reads: CashReads, erp: CashErp, dispute_id: str, *, today: date
) -> list[CashProblem]:
    """Book a dispute as Stripe has it now, whatever order its events came in: its withdrawals
    and reinstatements first (each keyed by its transaction), then the loss if it was lost."""
    return book_dispute(erp, reads.dispute(dispute_id), today=today)


def book_dispute(erp: CashErp, dispute: CashDispute, *, today: date) -> list[CashProblem]:
    problems = [p for t in dispute.withdrawals if (p := post_transaction(erp, t)) is not None]
    if dispute.status != "lost" or problems:
        return problems
    try:
        erp.post_cash(dispute_loss(dispute, on=dispute.closed_on or today))
    except CashInputError as exc:
        problems.append(CashProblem(dispute.id, exc.reason))
    return problems
