"""The revenue waterfall: what each contract will still recognize, month by month, and the
remaining performance obligations (RPO, ASC 606-10-50-13) split current / non-current.

RPO is every planned schedule row not recognized yet and not stopped by a void or write-off:
deferred revenue and the backlog not billed yet alike, at allocated prices. Current is what is
planned within 12 months after the as-of day; an obligation awaiting delivery is counted as
current (a delivery is expected within the year) and shown in its own column.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCustomer,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)
from sync.dates import add_months
from sync.revenue.delivery import AWAITING

LATER = "later"
AWAITING_COLUMN = "awaiting delivery"


@dataclass
class Row:
    contract: str  # the opportunity
    customer: str
    currency: str
    cells: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class Rpo:
    currency: str
    total: int
    current: int
    non_current: int


@dataclass(frozen=True)
class Waterfall:
    as_of: date
    columns: tuple[str, ...]  # YYYY-MM for each month shown, then "later", "awaiting delivery"
    rows: tuple[Row, ...]
    rpo: tuple[Rpo, ...]


def waterfall(session: Session, *, as_of: date, months: int = 12, by: str = "contract"
              ) -> Waterfall:
    """Rows per contract (or per customer with by="customer"), columns the `months` months
    after `as_of`, then what comes later."""
    first = as_of.replace(day=1)
    shown = [f"{add_months(first, i):%Y-%m}" for i in range(months)]
    horizon = add_months(as_of, 12)
    found = session.execute(
        select(LedgerRevenueSchedule.recognize_on, LedgerRevenueSchedule.amount_minor,
               LedgerRevenueSchedule.currency, LedgerSalesOrder.external_id, LedgerCustomer.name)
        .join(LedgerSalesOrderLine,
              LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .join(LedgerCustomer, LedgerCustomer.id == LedgerSalesOrder.customer_id)
        .where(LedgerRevenueSchedule.journal_entry_id.is_(None),
               LedgerRevenueSchedule.stopped_by_id.is_(None))
    )
    rows: dict[tuple[str, str], Row] = {}
    rpo: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for on, amount, currency, order, customer in found:
        key = order.rpartition(":v")[0] or order if by == "contract" else customer
        row = rows.setdefault((key, currency), Row(key, customer, currency))
        month = f"{on:%Y-%m}"
        column = (AWAITING_COLUMN if on == AWAITING else month if month in shown
                  else shown[0] if month < shown[0] else LATER)
        row.cells[column] += int(amount)
        rpo[currency][0 if on == AWAITING or on <= horizon else 1] += int(amount)
    return Waterfall(
        as_of, (*shown, LATER, AWAITING_COLUMN),
        tuple(sorted(rows.values(), key=lambda r: (r.currency, -r.total, r.contract))),
        tuple(Rpo(cur, cur_ + non, cur_, non) for cur, (cur_, non) in sorted(rpo.items())),
    )
