"""Journal entries on Sage Intacct (`general-ledger/journal-entry`), small and generic: the
lines as given, created once under closebot's reference number (read back first, so a re-run
finds it). `IntacctRevenueJournal` is `RevenueJournal` over it: a month's revenue per currency,
Dr Deferred Revenue / Cr each revenue account with a line per obligation.

A posting Sage Intacct refuses because its period is closed is raised as `PeriodClosedInErp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sync.connectors.intacct import IntacctErp
from sync.connectors.intacct_transport import SYSTEM
from sync.errors import PermanentError
from sync.ledger.accounts import BAD_DEBT_EXPENSE
from sync.money import from_minor, to_minor
from sync.ports_revenue import REVENUE_ENTRY, DeferredMoves, PeriodClosedInErp, RevenueLine

JOURNAL_ENTRY = "general-ledger/journal-entry"
GL_LINE = "general-ledger/journal-entry-line"
INVOICE_LINE = "accounts-receivable/invoice-line"
ADJUSTMENT_LINE = "accounts-receivable/adjustment-line"
JOURNAL = "GJ"  # the general journal every company has
CLOSED_PERIOD = "closed period"  # the phrase Sage Intacct's refusal carries

Line = tuple[str, str, int, str]  # GL account, "debit" or "credit", minor units, memo


def post_journal(erp: IntacctErp, *, reference: str, currency: str, posted_on: date,
                 description: str, lines: Sequence[Line], journal: str = JOURNAL) -> str:
    """The journal entry's key, created unless one carries `reference` already."""
    found = erp._find(JOURNAL_ENTRY, reference)
    if found:
        return found
    try:
        return erp._create(JOURNAL_ENTRY, {
            "glJournal": {"id": journal}, "postingDate": posted_on.isoformat(),
            "referenceNumber": reference, "description": description[:1000],
            "lines": [{"glAccount": {"id": account}, "txnType": side,
                       "txnAmount": str(from_minor(amount, currency)), "memo": memo[:1000],
                       "currency": {"txnCurrency": currency}}
                      for account, side, amount, memo in lines]})
    except PermanentError as refused:
        if CLOSED_PERIOD in f"{refused} {refused.detail or ''}".lower():
            raise PeriodClosedInErp(str(refused)) from None
        raise


class IntacctRevenueJournal:
    name = SYSTEM

    def __init__(self, erp: IntacctErp) -> None:
        self.erp = erp

    def post_revenue(self, *, external_id: str, currency: str, posted_on: date, memo: str,
                     lines: Sequence[RevenueLine]) -> str:
        # A line credits its account; a negative one debits it (revenue reversed), and
        # Deferred Revenue takes the other side of their total. Bad Debt Expense is the
        # company's account for it, the one write-offs debit.
        total = sum(line.amount_minor for line in lines)
        own = {BAD_DEBT_EXPENSE: self.erp.accounts.bad_debt}
        return post_journal(self.erp, reference=external_id, currency=currency,
                            posted_on=posted_on, description=memo, lines=[
                                (account, "credit" if amount > 0 else "debit", abs(amount), text)
                                for account, amount, text in (
                                    (self.erp.accounts.deferred_revenue, -total, memo),
                                    *((own.get(x.account, x.account), x.amount_minor, x.memo)
                                      for x in lines))
                                if amount])

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves:
        """Deferred Revenue's lines, one query per kind of record: invoice lines are billings,
        closebot's revenue entries are released, adjustment lines and every other journal entry
        line are credits (entries made by hand included)."""
        opening = billings = credits = released = 0
        deferred = self.erp.accounts.deferred_revenue
        for kind, fields in ((INVOICE_LINE, []), (ADJUSTMENT_LINE, []),
                             (GL_LINE, ["journalEntry.referenceNumber"])):
            for row in self.erp.query(kind, [
                    "glAccount.id", "txnAmount", "entryDate", *fields,
                    *(["txnType"] if kind == GL_LINE else [])], [
                    {"$eq": {"glAccount.id": deferred}},
                    {"$eq": {"currency.txnCurrency": currency}}]):
                day = date.fromisoformat(str(row["entryDate"])[:10])
                if day > end:
                    continue
                amount = to_minor(Decimal(str(row["txnAmount"])), currency)
                # AR document lines credit their account (an adjustment's are negative); a
                # journal entry line says its side.
                credit = -amount if row.get("txnType") == "debit" else amount
                if day < start:
                    opening += credit
                elif kind == INVOICE_LINE:
                    billings += credit
                elif str(row.get("journalEntry.referenceNumber") or "").startswith(REVENUE_ENTRY):
                    released -= credit
                else:
                    credits -= credit
        return DeferredMoves(opening, billings, credits, released,
                             opening + billings - credits - released)
