"""Voids and write-offs: an invoice's open receivable taken back out of the books.

The policy (docs/architecture.md, "Voids, write-offs and tax"):
- **void** — the invoice should never have been issued. Its entry is reversed for what is still
  open: Dr Deferred Revenue for what was not recognized yet, Dr revenue for what was (reversed in
  the open period, on the void date), Dr Sales Tax Payable for its tax, Cr Accounts Receivable.
- **uncollectible** — owed, but no longer expected to be paid. Revenue already recognized stays;
  its receivable is a credit loss (Dr Bad Debt Expense). Collecting the rest is no longer
  probable, so nothing more is recognized for what the invoice billed (ASC 606-10-25-7): its
  unearned billing comes out of deferred revenue. Its tax: Dr Sales Tax Payable (the bad-debt
  deduction on the next return).
- a **void after a write-off** turns the bad debt into a revenue reversal.
Either way the revenue schedule stops for the periods the invoice billed. Cash already received
counts against what was earned first, so the open balance closes the unearned part first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import LedgerInvoice, LedgerInvoiceClosure, LedgerRevenueSchedule
from sync.ledger import accounts as acct
from sync.ledger import fx
from sync.ledger.journal import Leg, next_number, post_entry
from sync.ledger.records import check_currency, open_balance

KINDS = ("void", "uncollectible")
K = TypeVar("K")


def _billed(session: Session, invoice: LedgerInvoice
            ) -> tuple[dict[str, int], list[LedgerRevenueSchedule], int]:
    """What the invoice's lines billed in the schedules: (recognized, per revenue account; the
    rows still to recognize, locked; the amount of lines that name no obligation)."""
    earned: dict[str, int] = defaultdict(int)
    pending: list[LedgerRevenueSchedule] = []
    unlinked = 0
    for line in invoice.lines:
        if line.sales_order_line_id is None:
            unlinked += line.amount_minor
            continue
        rows = select(LedgerRevenueSchedule).where(
            LedgerRevenueSchedule.sales_order_line_id == line.sales_order_line_id,
            LedgerRevenueSchedule.stopped_by_id.is_(None))
        if line.recurring and line.period_start and line.period_end:
            # A recurring line bills the periods recognized within its billing period.
            rows = rows.where(LedgerRevenueSchedule.recognize_on >= line.period_start,
                              LedgerRevenueSchedule.recognize_on < line.period_end)
        for row in session.scalars(rows.with_for_update()):
            if row.journal_entry_id is None:
                pending.append(row)
            else:
                earned[row.revenue_account] += row.amount_minor
    return dict(earned), pending, unlinked


def split_earned(total: int, weights: dict[K, int]) -> dict[K, int]:
    """`total` across `weights` in proportion, exactly (the largest share takes the cents). A
    void's earned part across what each revenue account (here) or line (a NetSuite memo,
    `sync/connectors/netsuite_closures.py`) earned, so both split it alike."""
    whole = sum(weights.values())
    if not total or not whole:
        return {}
    shares = {k: total * w // whole for k, w in weights.items()}
    largest = max(weights, key=lambda k: weights[k])
    shares[largest] += total - sum(shares.values())
    return {k: v for k, v in shares.items() if v}


def _reclassify_bad_debt(session: Session, invoice: LedgerInvoice,
                         earned: dict[str, int]) -> tuple[int, list[Leg]]:
    """A void of a written-off invoice: its bad debt was revenue that should never have been."""
    bad_debt = int(session.scalar(
        select(func.coalesce(func.sum(LedgerInvoiceClosure.to_bad_debt_minor), 0))
        .where(LedgerInvoiceClosure.invoice_id == invoice.id)) or 0)
    if bad_debt <= 0:
        return 0, []
    shares = split_earned(bad_debt, earned) or {acct.SUBSCRIPTION_REVENUE: bad_debt}
    return bad_debt, [*(Leg(code, debit=v) for code, v in shares.items()),
                      Leg(acct.BAD_DEBT_EXPENSE, credit=bad_debt)]


def close_invoice(
    session: Session, *, external_id: str, invoice: LedgerInvoice, kind: str, posted_on: date
) -> LedgerInvoiceClosure:
    """Take the invoice's open receivable out as `kind` and stop what it billed. The caller holds
    the invoice row locked, so a payment can't land in the middle."""
    if kind not in KINDS:
        raise ValueError(f"an invoice closes as void or uncollectible, not {kind!r}")
    check_currency(invoice.currency)
    still_open = max(open_balance(session, invoice), 0)
    tax = sum(line.tax_minor for line in invoice.lines)
    earned, pending, unlinked = _billed(session, invoice)
    tax_part = (tax * still_open + invoice.total_minor // 2) // invoice.total_minor if (
        invoice.total_minor) else 0
    revenue_part = still_open - tax_part
    unearned = sum(r.amount_minor for r in pending) + unlinked
    to_earned = min(sum(earned.values()), max(revenue_part - unearned, 0))
    to_deferred = revenue_part - to_earned
    to_revenue = to_bad_debt = 0
    legs = [Leg(acct.DEFERRED_REVENUE, debit=to_deferred), Leg(acct.SALES_TAX_PAYABLE,
                                                               debit=tax_part)]
    if kind == "void":
        to_revenue = to_earned
        legs += [Leg(code, debit=v) for code, v in split_earned(to_earned, earned).items()]
        if not still_open:
            to_revenue, legs = _reclassify_bad_debt(session, invoice, earned)
            to_bad_debt = -to_revenue
    else:
        to_bad_debt = to_earned
        legs.append(Leg(acct.BAD_DEBT_EXPENSE, debit=to_earned))
    legs = [leg for leg in legs if leg.debit or leg.credit]
    new_id, number = next_number(session, LedgerInvoiceClosure.__tablename__)
    entry = None
    if legs:
        if still_open:
            legs.append(Leg(acct.RECEIVABLE, credit=still_open))
        entry = post_entry(
            session, external_id=f"closure:{external_id}", memo=f"{number} {kind} {invoice.number}",
            posted_on=posted_on, currency=invoice.currency, source_type=f"invoice_{kind}",
            source_ref=external_id, legs=legs,
            functional=fx.at_invoice_rate(session, invoice, legs),
        )
    closure = LedgerInvoiceClosure(
        id=new_id, number=number, external_id=external_id, invoice_id=invoice.id, kind=kind,
        amount_minor=still_open, to_deferred_minor=to_deferred, to_revenue_minor=to_revenue,
        to_bad_debt_minor=to_bad_debt, to_tax_minor=tax_part, currency=invoice.currency,
        posted_on=posted_on, journal_entry_id=entry.id if entry else None,
    )
    session.add(closure)
    session.flush()
    for row in pending:
        row.stopped_by_id = closure.id
    session.flush()
    return closure
