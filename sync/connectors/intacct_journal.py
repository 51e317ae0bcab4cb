"""Journal entries on Sage Intacct (`general-ledger/journal-entry`), small and generic: the
lines as given, created once under closebot's reference number (read back first, so a re-run
finds it). `IntacctRevenueJournal` is `RevenueJournal` over it: a month's revenue per currency,
Dr Deferred Revenue / Cr each revenue account with a line per obligation.

A posting Sage Intacct refuses because its period is closed is raised as `PeriodClosedInErp`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sync.connectors.intacct import IntacctErp
from sync.connectors.intacct_transport import SYSTEM
from sync.errors import PermanentError
from sync.money import from_minor
from sync.ports_revenue import PeriodClosedInErp, RevenueLine

JOURNAL_ENTRY = "general-ledger/journal-entry"
JOURNAL = "GJ"  # the general journal every company has
CLOSED_PERIOD = "closed period"  # the phrase Sage Intacct's refusal carries

Line = tuple[str, str, int, str]  # GL account, "debit" or "credit", minor units, memo


def post_journal(erp: IntacctErp, *, reference: str, currency: str, posted_on: date,
                 description: str, lines: Sequence[Line]) -> str:
    """The journal entry's key, created unless one carries `reference` already."""
    found = erp._find(JOURNAL_ENTRY, reference)
    if found:
        return found
    try:
        return erp._create(JOURNAL_ENTRY, {
            "glJournal": {"id": JOURNAL}, "postingDate": posted_on.isoformat(),
            "referenceNumber": reference, "description": description[:1000],
            "lines": [{"glAccount": {"id": account}, "txnType": side,
                       "txnAmount": str(from_minor(amount, currency)), "memo": memo[:1000]}
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
        total = sum(line.amount_minor for line in lines)
        return post_journal(self.erp, reference=external_id, currency=currency,
                            posted_on=posted_on, description=memo, lines=[
                                (self.erp.accounts.deferred_revenue, "debit", total, memo),
                                *((line.account, "credit", line.amount_minor, line.memo)
                                  for line in lines)])
