"""`RevenueJournal` on NetSuite: a month's revenue as one `journalEntry` per currency, upserted
by external ID, Dr Deferred Revenue / Cr each revenue account with a line per obligation.

Accounts are named by number (closebot's chart: 2100 Deferred Revenue, 4000 and 4100 revenue,
6200 Bad Debt Expense for a void after a write-off) and looked up once through SuiteQL. A
posting NetSuite refuses because its accounting period is closed is raised as
`PeriodClosedInErp`, so the close can date it in the next open period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sync.connectors.netsuite import NetSuiteErp
from sync.connectors.netsuite_reads import suiteql_day
from sync.connectors.netsuite_transport import DEFERRED_REVENUE, SYSTEM
from sync.errors import PermanentError
from sync.money import from_minor, to_minor
from sync.ports_revenue import REVENUE_ENTRY, DeferredMoves, PeriodClosedInErp, RevenueLine

CLOSED_PERIOD = "closed period"  # the phrase NetSuite's refusal carries


class NetSuiteRevenueJournal:
    name = SYSTEM

    def __init__(self, erp: NetSuiteErp, *, deferred_revenue: str = DEFERRED_REVENUE) -> None:
        self.erp = erp
        self.deferred_revenue = deferred_revenue

    def post_revenue(self, *, external_id: str, currency: str, posted_on: date, memo: str,
                     lines: Sequence[RevenueLine]) -> str:
        # A line credits its account; a negative one debits it (revenue reversed), and
        # Deferred Revenue takes the other side of their total. The accounts are numbered as in
        # closebot's chart; 6200 Bad Debt Expense is the "Bad debt" item's, which write-offs debit.
        total = sum(line.amount_minor for line in lines)
        items: list[dict[str, Any]] = [
            {"account": {"id": self._account(account)}, "memo": text[:999],
             "credit" if amount > 0 else "debit": from_minor(abs(amount), currency)}
            for account, amount, text in ((self.deferred_revenue, -total, memo),
                                          *((x.account, x.amount_minor, x.memo) for x in lines))
            if amount]
        try:
            return self.erp._upsert("journalEntry", external_id, {
                "currency": {"id": self.erp._currency_id(currency)},
                "tranDate": posted_on.isoformat(), "memo": memo[:999],
                **self.erp.setup.head(with_segments=False), "line": {"items": items}})
        except PermanentError as refused:
            if CLOSED_PERIOD in f"{refused} {refused.detail or ''}".lower():
                raise PeriodClosedInErp(str(refused)) from None
            raise

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves:
        """Deferred Revenue's general-ledger lines (`transactionaccountingline`) with the date,
        type and external ID of their transactions, two queries: invoice lines are billings,
        closebot's revenue entries are released, every other line (credit memos, voids,
        write-offs, journal entries made by hand) is a credit."""
        deferred = self._account(self.deferred_revenue)
        dated = {str(row["id"]): row for row in self.erp.suiteql(
            "SELECT id, type, trandate, externalid FROM transaction WHERE currency = "
            f"{self.erp._currency_id(currency)}")}
        opening = billings = credits = released = 0
        for line in self.erp.suiteql("SELECT transaction, amount FROM transactionaccountingline "
                                     f"WHERE account = {deferred}"):
            tran = dated.get(str(line["transaction"]))
            if tran is None:
                continue  # another currency's
            day = suiteql_day(str(tran["trandate"]))
            if day is None or day > end:
                continue
            credit = -to_minor(Decimal(str(line["amount"])), currency)  # amount: debit - credit
            if day < start:
                opening += credit
            elif tran.get("type") == "CustInvc":
                billings += credit
            elif str(tran.get("externalid") or "").startswith(REVENUE_ENTRY):
                released -= credit
            else:
                credits -= credit
        return DeferredMoves(opening, billings, credits, released,
                             opening + billings - credits - released)

    def _account(self, number: str) -> str:
        found = self.erp.account_ids().get(number)
        if found is None:
            raise PermanentError(
                f"NetSuite has no account number {number} for revenue postings; add it under "
                "Lists > Accounting > Accounts", system=SYSTEM)
        return found

