"""Accounts receivable aging: every open ERP invoice's open balance by days past due, in the
buckets finance reads (current, 1-30, 31-60, 61-90, 90+), per currency and per customer.

Read through the `Erp` port, so the embedded ledger, NetSuite and Sage Intacct age alike.
Amounts stay in minor units of their own currency: currencies are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sync.ports import Erp

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(due_on: date | None, today: date) -> str:
    """An invoice with no due date is aged as current: it can't be called late."""
    late = (today - due_on).days if due_on is not None else 0
    if late <= 0:
        return "current"
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    return "61-90" if late <= 90 else "90+"


@dataclass
class Aging:
    as_of: date
    customer: str | None = None  # the filter asked for, if any
    # currency → bucket → open minor units
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    # (customer name, currency) → bucket → open minor units
    customers: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    invoices: int = 0

    def add(self, name: str, currency: str, where: str, open_minor: int) -> None:
        self.totals.setdefault(currency, dict.fromkeys(BUCKETS, 0))[where] += open_minor
        self.customers.setdefault((name, currency), dict.fromkeys(BUCKETS, 0))[where] += \
            open_minor
        self.invoices += 1


def ar_aging(erp: Erp, today: date, customer: str | None = None) -> Aging:
    names = {c.id: c.name for page in erp.customers() for c in page}
    wanted = customer.strip().lower() if customer else None
    aging = Aging(as_of=today, customer=customer)
    rows: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    for page in erp.open_invoices():
        for inv in page:
            name = names.get(inv.customer_id, inv.customer_id)
            if wanted and wanted not in name.lower() and wanted != inv.customer_id.lower():
                continue
            rows[inv.currency].append((name, inv.currency, bucket(inv.due_on, today),
                                       inv.open_minor))
    for currency in sorted(rows):
        for row in sorted(rows[currency]):
            aging.add(*row)
    return aging
