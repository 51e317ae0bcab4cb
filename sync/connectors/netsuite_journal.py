"""`RevenueJournal` on NetSuite: a month's revenue as one `journalEntry` per currency, upserted
by external ID, Dr Deferred Revenue / Cr each revenue account with a line per obligation.

Accounts are named by number (closebot's chart: 2100 Deferred Revenue, 4000 and 4100 revenue)
and looked up once through SuiteQL. A posting NetSuite refuses because its accounting period is
closed is raised as `PeriodClosedInErp`, so the close can date it in the next open period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sync.connectors.netsuite import NetSuiteErp
from sync.connectors.netsuite_transport import SYSTEM
from sync.errors import PermanentError
from sync.money import from_minor
from sync.ports_revenue import DeferredMoves, PeriodClosedInErp, RevenueLine

DEFERRED_REVENUE = "2100"
CLOSED_PERIOD = "closed period"  # the phrase NetSuite's refusal carries


class NetSuiteRevenueJournal:
    name = SYSTEM

    def __init__(self, erp: NetSuiteErp, *, deferred_revenue: str = DEFERRED_REVENUE) -> None:
        self.erp = erp
        self.deferred_revenue = deferred_revenue
        self._ids: dict[str, str] = {}  # account number -> internal id

    def post_revenue(self, *, external_id: str, currency: str, posted_on: date, memo: str,
                     lines: Sequence[RevenueLine]) -> str:
        total = sum(line.amount_minor for line in lines)
        items: list[dict[str, Any]] = [
            {"account": {"id": self._account(self.deferred_revenue)}, "memo": memo[:999],
             "debit": from_minor(total, currency)},
            *({"account": {"id": self._account(line.account)}, "memo": line.memo[:999],
               "credit": from_minor(line.amount_minor, currency)} for line in lines),
        ]
        try:
            return self.erp._upsert("journalEntry", external_id, {
                "currency": {"id": self.erp._currency_id(currency)},
                "tranDate": posted_on.isoformat(), "memo": memo[:999],
                **self.erp.setup.head(with_segments=False), "line": {"items": items}})
        except PermanentError as refused:
            if CLOSED_PERIOD in f"{refused} {refused.detail or ''}".lower():
                raise PeriodClosedInErp(str(refused)) from None
            raise

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves | None:
        """Not read yet: NetSuite's invoices book to the items' accounts, and its general
        ledger lines are read without their dates."""
        return None

    def _account(self, number: str) -> str:
        if not self._ids:
            self._ids = {str(row["acctnumber"]): str(row["id"])
                         for row in self.erp.suiteql("SELECT id, acctnumber FROM account")}
        if number not in self._ids:
            raise PermanentError(
                f"NetSuite has no account number {number} for revenue postings; add it under "
                "Lists > Accounting > Accounts", system=SYSTEM)
        return self._ids[number]
