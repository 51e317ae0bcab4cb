"""A contract modification's re-plan (ASC 606): the deal's schedules moved to its classification.

`sync.revenue.modifications` classifies an amendment: a prospective reallocation (what each
obligation has left to recognize from the effective day) and a cumulative catch-up (a row of
its own on that day, negative when it lowers revenue, never below what was recognized). Here
the ledger's rows and each line's allocated price follow it, so the audit's tie-out (price =
schedule) holds. Kept apart from `replan.py` (a credit against deferred revenue, a change
order's decrease), whose largest-remainder split it shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import LedgerRevenueSchedule, LedgerSalesOrder, LedgerSalesOrderLine
from sync.ledger.errors import LedgerError
from sync.ledger.replan import proportional
from sync.money import format_money


def modification_lines(session: Session, opportunity_id: str, line_id: str
                       ) -> list[LedgerSalesOrderLine]:
    """The deal's sales order lines of one obligation: the contract line in each version and
    each change order's `<line>:delta@<date>` for it."""
    return list(session.scalars(
        select(LedgerSalesOrderLine)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .where(LedgerSalesOrder.external_id.startswith(f"{opportunity_id}:v", autoescape=True),
               (LedgerSalesOrderLine.external_id == line_id)
               | LedgerSalesOrderLine.external_id.startswith(f"{line_id}:delta@",
                                                              autoescape=True))
        .order_by(LedgerSalesOrderLine.id).with_for_update()))


def replan_modification(session: Session, *, opportunity_id: str, effective: date,
                        remaining: Mapping[str, int], catch_up: Mapping[str, int]) -> int:
    """Re-plan the deal's schedules to a classified modification (`sync.revenue.modifications`);
    returns how many obligations moved.

    Per obligation, what its rows plan from `effective` on (recognized or not, any version or
    change order) becomes `remaining` plus `catch_up`: a catch-up is a row of its own recognized
    on the effective day (the modification's period), negative when it lowers revenue (Dr
    revenue / Cr Deferred Revenue), never below what the obligation recognized; what is left
    is spread over the rows not recognized yet in proportion to their amounts (evenly when they
    are all zero), largest remainder, so a ratable obligation keeps its shape and a milestone
    one waits for its milestones. An obligation the change drops is left 0: its rows from
    `effective` go to 0. The revenue one obligation gains another gives up (prospective
    reallocation), so each line's allocated price moves with its rows and keeps the price its
    invoices bill (`contract_minor`): the audit's tie-out (price = schedule) holds; a dropped
    line's price becomes what it recognized (`_price_dropped`). A replay finds every obligation
    at its target and moves nothing."""
    moved = 0
    priced: list[tuple[list[LedgerSalesOrderLine], bool]] = []  # moved; dropped or not
    for line_id in sorted(set(remaining) | set(catch_up)):
        lines = modification_lines(session, opportunity_id, line_id)
        if not lines:
            continue  # an obligation this ERP holds no line of (a separate ERP's entity)
        rows = list(session.scalars(
            select(LedgerRevenueSchedule)
            .where(LedgerRevenueSchedule.sales_order_line_id.in_([ln.id for ln in lines]),
                   LedgerRevenueSchedule.stopped_by_id.is_(None),
                   LedgerRevenueSchedule.recognize_on >= effective)
            .order_by(LedgerRevenueSchedule.recognize_on, LedgerRevenueSchedule.id)
            .with_for_update()))
        up = catch_up.get(line_id, 0)
        target = remaining.get(line_id, 0) + up
        caught = [r for r in rows if _is_catch_up(r, effective)]
        if sum(r.amount_minor for r in rows) == target and bool(caught) == bool(up):
            continue
        currency = rows[0].currency if rows else ""
        name = lines[0].description
        if up < 0:
            _refuse_below_zero(session, lines, effective, up, caught, name, currency)
        fixed = sum(r.amount_minor for r in rows if r.recognized and r not in caught)
        open_rows = [r for r in rows if not r.recognized and not _is_catch_up(r, effective)]
        left = target - fixed - up
        if left < 0:
            raise LedgerError(f"{name}: {format_money(fixed, currency)} is already recognized "
                              f"from {effective:%d %b %Y}, more than the "
                              f"{format_money(target, currency)} the contract change leaves it")
        if left and not open_rows:
            raise LedgerError(f"{name}: nothing of it is left to recognize from "
                              f"{effective:%d %b %Y} to take the {format_money(left, currency)} "
                              "the contract change gives it")
        before = {ln.id: 0 for ln in lines}
        for r in rows:
            before[r.sales_order_line_id] += r.amount_minor
        weights = [r.amount_minor for r in open_rows]
        for row, amount in zip(open_rows, proportional(left, weights if sum(weights) else
                                                       [1] * len(open_rows)), strict=True):
            row.amount_minor = amount
        if up:
            _catch_up_row(session, lines[0], effective, up, caught)
        session.flush()
        after = {ln.id: 0 for ln in lines}
        for r in session.scalars(select(LedgerRevenueSchedule).where(
                LedgerRevenueSchedule.sales_order_line_id.in_([ln.id for ln in lines]),
                LedgerRevenueSchedule.stopped_by_id.is_(None),
                LedgerRevenueSchedule.recognize_on >= effective)):
            after[r.sales_order_line_id] += r.amount_minor
        for ln in lines:
            if after[ln.id] != before[ln.id]:
                if ln.contract_minor is None:
                    ln.contract_minor = ln.amount_minor
                ln.amount_minor += after[ln.id] - before[ln.id]
        priced.append((lines, target == 0))
        moved += 1
    _price_dropped(session, priced)
    session.flush()
    return moved


def _price_dropped(session: Session, priced: list[tuple[list[LedgerSalesOrderLine], bool]]
                   ) -> None:
    """A dropped obligation's price becomes what it recognized, the rest going to the lines left
    in proportion to what they plan. When a credit memo (a dropped line's unused time) took part
    of the credit from the dropped line's rows before it was re-planned, the price the rows
    carried away is short by that part; the lines left now carry the whole credit, so they
    carry the price that bills it too: every obligation's price less its credits is its plan."""
    excess = 0
    for lines, dropped in priced:
        for ln in lines if dropped else []:
            planned = _planned_total(session, ln)
            if planned != ln.amount_minor:
                if ln.contract_minor is None:
                    ln.contract_minor = ln.amount_minor
                excess += ln.amount_minor - planned
                ln.amount_minor = planned
    kept = [ln for lines, dropped in priced if not dropped for ln in lines]
    if not excess or not kept:
        return
    weights = [max(_planned_total(session, ln), 0) for ln in kept]
    sign = 1 if excess > 0 else -1  # `proportional` splits a positive total
    for ln, share in zip(kept, proportional(sign * excess, weights if sum(weights) else
                                            [1] * len(kept)), strict=True):
        if ln.contract_minor is None:
            ln.contract_minor = ln.amount_minor
        ln.amount_minor += sign * share


def _planned_total(session: Session, line: LedgerSalesOrderLine) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(
        LedgerRevenueSchedule.amount_minor), 0)).where(
        LedgerRevenueSchedule.sales_order_line_id == line.id,
        LedgerRevenueSchedule.stopped_by_id.is_(None))) or 0)


# A catch-up row is numbered past any plan's own periods (months of a term, milestones), so a
# point-in-time row or a milestone reached on the effective day is never taken for one.
CATCH_UP_PERIOD = 10_000


def _is_catch_up(row: LedgerRevenueSchedule, effective: date) -> bool:
    return row.period_no > CATCH_UP_PERIOD and row.recognize_on == effective


def _refuse_below_zero(session: Session, lines: list[LedgerSalesOrderLine], effective: date,
                       up: int, caught: list[LedgerRevenueSchedule], name: str,
                       currency: str) -> None:
    """A negative catch-up reduces revenue already recognized (25-13(b)), never below zero:
    what the obligation recognized (any day, catch-ups already posted aside) plus the
    catch-up."""
    recognized = sum(session.scalars(
        select(LedgerRevenueSchedule.amount_minor).where(
            LedgerRevenueSchedule.sales_order_line_id.in_([ln.id for ln in lines]),
            LedgerRevenueSchedule.journal_entry_id.is_not(None))))
    recognized -= sum(r.amount_minor for r in caught if r.recognized)
    if recognized + up < 0:
        raise LedgerError(
            f"{name}: the contract change lowers its revenue by {format_money(-up, currency)} "
            f"on {effective:%d %b %Y}, below zero: only {format_money(recognized, currency)} "
            "recognized; book the rest as a credit memo")


def _catch_up_row(session: Session, line: LedgerSalesOrderLine, effective: date, amount: int,
                  caught: list[LedgerRevenueSchedule]) -> None:
    """The catch-up, recognized on the effective day; an unposted one is set, never doubled."""
    rest = amount - sum(r.amount_minor for r in caught if r.recognized)
    open_caught = [r for r in caught if not r.recognized]
    for n, row in enumerate(open_caught):
        row.amount_minor = rest if n == 0 else 0
    if open_caught or rest == 0:
        return
    last = max(CATCH_UP_PERIOD, session.scalar(
        select(func.max(LedgerRevenueSchedule.period_no)).where(
            LedgerRevenueSchedule.sales_order_line_id == line.id)) or 0)
    order = session.get(LedgerSalesOrder, line.sales_order_id)
    session.add(LedgerRevenueSchedule(
        sales_order_line_id=line.id, period_no=last + 1, period_start=effective,
        period_end=effective, recognize_on=effective, amount_minor=rest,
        currency=order.currency if order else "", revenue_account=line.revenue_account))
