"""A credit memo against deferred revenue: the unearned part of the credit, and the re-plan.

The policy (docs/architecture.md, "Credits"): a credit is taken against the obligations its
invoice billed, in proportion to what each still has deferred (not yet earned on the credit's
date) for the periods that invoice billed; what exceeds that is contra revenue (Credits &
Allowances). Each obligation's remaining schedule rows shrink by its share, in proportion to
their amounts, split by largest remainder so they add back to the cent. Then, per obligation,
recognized + deferred = invoiced - credits, always.

Worked example (the seed deal: $20,000 implementation recognized on day 1, $100,000
subscription as 10 rows of $10,000, one invoice of $120,000):
- $10,000 credit on day 10: unearned = the 10 subscription rows, 100,000 >= 10,000, so
  Dr Deferred Revenue 10,000 / Cr AR 10,000; the rows become 10 x 9,000. Deferred 90,000,
  recognized 20,000 (implementation); at the end, recognized 110,000 = 120,000 - 10,000.
- $10,000 credit after 3 months: unearned = 7 rows, 70,000; Dr Deferred 10,000 / Cr AR 10,000;
  the 7 rows become 60,000: 6 x 8,571.43 + 1 x 8,571.42. Recognized 20,000 + 30,000 + 60,000 =
  110,000.
- a $75,000 credit after 3 months: 70,000 from deferred (rows become 0), 5,000 Dr Credits &
  Allowances.

A change order's decrease shrinks the rows still to recognize the same way (`take_from_schedule`).
A contract modification's re-plan is `modification_replan.py`'s; it splits with `proportional`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import LedgerInvoice, LedgerRevenueSchedule, LedgerSalesOrderLine
from sync.ledger.errors import LedgerError


def unearned_rows(session: Session, invoice: LedgerInvoice, on: date
                  ) -> dict[int, tuple[list[LedgerRevenueSchedule], int | None]]:
    """Per sales order line, the invoice's rows due after `on`, locked: still deferred on that
    day, whether or not they have been recognized since (a credit booked late); and at most how
    much of them the invoice's line booked to deferred revenue. A month's cents can make a
    billing period's rows a cent more than the period's bill (a quarter billed 1,625,000 whose
    three months plan 1,625,001): a credit takes back no more than the invoice booked. A line
    whose price allocation moved (relative SSP) bills another amount than its rows plan: no
    bound there."""
    found: dict[int, tuple[list[LedgerRevenueSchedule], int | None]] = {}
    for line in invoice.lines:
        if line.sales_order_line_id is None or line.amount_minor <= 0:
            continue
        rows = select(LedgerRevenueSchedule).where(
            LedgerRevenueSchedule.sales_order_line_id == line.sales_order_line_id,
            LedgerRevenueSchedule.stopped_by_id.is_(None))
        if line.recurring and line.period_start and line.period_end:
            # Only the periods this invoice billed: later ones are not deferred revenue yet.
            rows = rows.where(LedgerRevenueSchedule.recognize_on >= line.period_start,
                              LedgerRevenueSchedule.recognize_on < line.period_end)
        billed = list(session.scalars(rows.order_by(LedgerRevenueSchedule.period_no)
                                      .with_for_update()))
        picked = [r for r in billed if r.recognize_on > on]
        if not picked:
            continue
        order_line = session.get(LedgerSalesOrderLine, line.sales_order_line_id)
        cap = None if order_line is None or order_line.contract_minor is not None else (
            line.amount_minor - sum(r.amount_minor for r in billed if r.recognize_on <= on))
        rows_before, cap_before = found.get(line.sales_order_line_id, ([], 0))
        found[line.sales_order_line_id] = (
            rows_before + picked,
            None if cap is None or cap_before is None else cap_before + max(cap, 0))
    return found


def proportional(total: int, weights: list[int]) -> list[int]:
    """`total` across `weights` in proportion; largest remainders take the cents, so the
    shares add back to `total` exactly (equal weights: `sync.money.split_evenly`)."""
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in weights]
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def take_from_deferred(session: Session, invoice: LedgerInvoice, amount_minor: int,
                       on: date) -> tuple[int, dict[LedgerRevenueSchedule, int]]:
    """Reduce the invoice's schedule rows due after `on` by up to `amount_minor`; returns how
    much came out of deferred revenue (the rest of the credit is contra revenue), and, per row
    already recognized, how much of its posted revenue the credit took back: revenue for days
    after the credit, recognized because the credit was booked late, to be reversed."""
    found = unearned_rows(session, invoice, on)
    # A negative catch-up row due after `on` lowers what is deferred; only rows still planning
    # revenue can shrink.
    deferred = {line: max(0, sum(r.amount_minor for r in rows) if cap is None else
                          min(sum(r.amount_minor for r in rows), cap))
                for line, (rows, cap) in found.items()}
    taken = min(amount_minor, sum(deferred.values()))
    if taken <= 0:
        return 0, {}
    reversed_rows: dict[LedgerRevenueSchedule, int] = {}
    lines = sorted(deferred)
    for line, share in zip(lines, proportional(taken, [deferred[k] for k in lines]),
                           strict=True):
        rows = [r for r in found[line][0] if r.amount_minor > 0]
        left = proportional(sum(r.amount_minor for r in rows) - share,
                            [r.amount_minor for r in rows])
        for row, amount in zip(rows, left, strict=True):
            if row.journal_entry_id is not None and amount != row.amount_minor:
                reversed_rows[row] = row.amount_minor - amount
            row.amount_minor = amount
    session.flush()
    return taken, reversed_rows


def delta_base(external_id: str) -> str:
    """The contract line a change order line changes (`<line>:delta@<date>` → `<line>`)."""
    return external_id.partition(":delta@")[0]


def take_from_schedule(session: Session, *, external_id: str, amount_minor: int,
                       start: date, end: date) -> None:
    """A decrease on a change order: the rows the contract line (and its earlier change
    orders) still has to recognize from `start` to `end` shrink by `amount_minor`, in
    proportion to their amounts. They are rows no invoice has billed yet (the decrease takes
    effect from the next billing period; the current one's credit is a credit memo)."""
    base = delta_base(external_id)
    rows = list(session.scalars(
        select(LedgerRevenueSchedule)
        .join(LedgerSalesOrderLine,
              LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
        .where((LedgerSalesOrderLine.external_id == base)
               | LedgerSalesOrderLine.external_id.startswith(f"{base}:delta@"),
               LedgerRevenueSchedule.stopped_by_id.is_(None),
               LedgerRevenueSchedule.journal_entry_id.is_(None),
               LedgerRevenueSchedule.recognize_on >= start,
               LedgerRevenueSchedule.recognize_on <= end)
        .order_by(LedgerRevenueSchedule.id).with_for_update()))
    planned = sum(r.amount_minor for r in rows)
    if amount_minor > planned:
        raise LedgerError(f"line {external_id}: a decrease of {amount_minor} is more than the "
                          f"{planned} still to recognize from {start}")
    left = proportional(planned - amount_minor, [r.amount_minor for r in rows])
    for row, amount in zip(rows, left, strict=True):
        row.amount_minor = amount
    session.flush()
