"""Month-end close when the ERP is NetSuite or Sage Intacct: the revenue subledger (the ledger's
schedule tables, `sync/connectors/revenue_subledger.py`) is closed as the ledger closes itself,
then what it released in the period is posted to the ERP as one journal entry per currency.

Each entry is Dr Deferred Revenue (the total) / Cr each revenue account with one line per
obligation and period released (its memo names the order, the product and the period), under
the external ID `closebot-rev-<period>-<currency>`: a re-run, or a run after a crash between
the subledger's close and the ERP's answer, finds the entry instead of posting a second one.
An ERP that refuses the day because its own period is closed gets the entry on the first day of
the next month, its memo saying which month the revenue belongs to. The deferred-revenue
roll-forward is the ERP's Deferred Revenue (opening, billings, credits and balance read from
its general ledger) with the revenue the subledger recognized.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrderLine,
)
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.close import CloseReport, RollForward
from sync.ledger.service import Ledger
from sync.ports_revenue import REVENUE_ENTRY, PeriodClosedInErp, RevenueJournal, RevenueLine


@dataclass(frozen=True)
class ErpPosting:
    currency: str
    external_id: str
    erp_id: str
    amount_minor: int
    posted_on: date
    lines: int
    note: str  # why it is dated after the period, if it is


@dataclass(frozen=True)
class ErpCloseReport:
    erp: str
    close: CloseReport  # the subledger's: rows released, the lock
    postings: tuple[ErpPosting, ...]
    # Per currency: opening, billings and credits as the ERP's Deferred Revenue holds them,
    # recognized as the subledger released it; `ledger_balance` is the ERP's balance. Empty
    # when the ERP's balance is not read.
    roll_forward: tuple[RollForward, ...]


def close_on_erp(ledger: Ledger, journal: RevenueJournal, *, period: str, by: str,
                 today: date) -> ErpCloseReport:
    close = ledger.close_period(period=period, by=by, today=today)
    released = ledger.read(lambda s: period_revenue(s, close.starts_on, close.ends_on))
    postings = []
    for currency, lines in sorted(released.items()):
        external_id = f"{REVENUE_ENTRY}{close.period}-{currency}"
        memo = f"closebot revenue {close.period} {currency}"
        posted_on, note = close.ends_on, ""
        try:
            erp_id = journal.post_revenue(external_id=external_id, currency=currency,
                                          posted_on=posted_on, memo=memo, lines=lines)
        except PeriodClosedInErp:
            posted_on = close.ends_on + timedelta(days=1)
            note = (f"{journal.name} has closed {close.period}: posted on "
                    f"{posted_on:%d %b %Y}, the first day of the next period")
            erp_id = journal.post_revenue(external_id=external_id, currency=currency,
                                          posted_on=posted_on, memo=f"{memo} ({note})",
                                          lines=lines)
        postings.append(ErpPosting(currency, external_id, erp_id,
                                   sum(line.amount_minor for line in lines), posted_on,
                                   len(lines), note))
    return ErpCloseReport(journal.name, close, tuple(postings),
                          tuple(_roll_forward(journal, close, postings)))


def _roll_forward(journal: RevenueJournal, close: CloseReport, postings: list[ErpPosting]
                  ) -> list[RollForward]:
    """The ERP's Deferred Revenue rolled forward with what the subledger recognized: it ties
    when the ERP released exactly that in the period (an entry the ERP moved to the next
    period shows as the difference). Each currency the subledger holds deferred revenue in,
    so a month with billings or credits and no revenue (a void) is rolled forward too."""
    recognized = {posting.currency: posting.amount_minor for posting in postings}
    found = []
    for currency in sorted(set(recognized) | {r.currency for r in close.roll_forward}):
        moves = journal.deferred_moves(currency, close.starts_on, close.ends_on)
        if moves is None:
            continue
        released = recognized.get(currency, 0)
        found.append(RollForward(
            currency, moves.opening, moves.billings, moves.credits, released,
            moves.opening + moves.billings - moves.credits - released, moves.closing))
    return found


def period_revenue(session: Session, start: date, end: date) -> dict[str, list[RevenueLine]]:
    """Per currency, the revenue the subledger released in [start, end]: a line per schedule
    row (an obligation's period), credited to its revenue account."""
    entry, line, row = LedgerJournalEntry, LedgerJournalLine, LedgerRevenueSchedule
    found: dict[str, list[RevenueLine]] = {}
    for currency, account, amount, memo, product in session.execute(
        select(entry.currency, line.account_code, line.credit_minor, entry.memo,
               LedgerSalesOrderLine.description)
        .join(line, line.entry_id == entry.id)
        .join(row, row.journal_entry_id == entry.id)
        .join(LedgerSalesOrderLine, LedgerSalesOrderLine.id == row.sales_order_line_id)
        .where(entry.source_type == "revenue_schedule", entry.posted_on >= start,
               entry.posted_on <= end, line.account_code != DEFERRED_REVENUE)
        .order_by(entry.posted_on, entry.id)
    ):
        found.setdefault(currency, []).append(
            RevenueLine(str(account), int(amount), f"{product}: {memo}"))
    return found
