"""Month-end close when the ERP is NetSuite or Sage Intacct: the revenue subledger (the ledger's
schedule tables, `sync/connectors/revenue_subledger.py`) is closed as the ledger closes itself,
then what it released in the period is posted to the ERP as journal entries, per currency.

Each entry is Dr Deferred Revenue (its total) / Cr each revenue account with one line per
obligation and period released (its memo names the order, the product and the period), under
the external ID `closebot-rev-<period>-<currency>`: a re-run, or a run after a crash between
the subledger's close and the ERP's answer, finds the entry instead of posting a second one.
A month of many contracts is split into entries of at most `max_lines` lines, the Deferred
Revenue debit included (ERPs limit the lines of one entry): the second is `...-part-2`, and so
on. The lines come in a fixed order, so a re-run splits them the same way and finds each part.
An ERP that refuses the day because its own period is closed gets the entry on the first day of
the next month, its memo saying which month the revenue belongs to. The deferred-revenue
roll-forward is the ERP's Deferred Revenue (opening, billings, credits and balance read from
its general ledger) with the revenue the subledger recognized.

`ErpPeriodCloses` is the month-end close card's `PeriodCloses` on these ERPs: a period counts as
closed once the subledger is closed and its entries reached the ERP (audited as
`close.erp_posted`), so a close the ERP refused or timed out on is tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from storage import audit
from storage.db import transaction
from storage.ledger import (
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerRevenueSchedule,
    LedgerSalesOrderLine,
)
from storage.tables import AuditEntry
from sync.ledger.accounts import DEFERRED_REVENUE
from sync.ledger.close import CloseReport, RollForward
from sync.ledger.periods import name_of, parse_period
from sync.ledger.service import Ledger
from sync.ports_revenue import (
    MAX_JOURNAL_LINES,
    PART,
    REVENUE_ENTRY,
    ErpPosting,
    PeriodClosedInErp,
    RevenueDue,
    RevenueJournal,
    RevenueLine,
)

POSTED = "close.erp_posted"


@dataclass(frozen=True)
class ErpCloseReport:
    erp: str
    close: CloseReport  # the subledger's: rows released, the lock
    postings: tuple[ErpPosting, ...]
    # Per currency: opening, billings and credits as the ERP's Deferred Revenue holds them,
    # recognized as the subledger released it; `ledger_balance` is the ERP's balance. Empty
    # when the ERP's balance is not read.
    roll_forward: tuple[RollForward, ...]

    @property
    def period(self) -> str:
        return self.close.period

    @property
    def posted(self) -> int:
        return self.close.posted

    @property
    def already_closed(self) -> bool:
        return self.close.already_closed

    @property
    def closed_by(self) -> str:
        return self.close.closed_by


def close_on_erp(ledger: Ledger, journal: RevenueJournal, *, period: str, by: str,
                 today: date, max_lines: int = MAX_JOURNAL_LINES) -> ErpCloseReport:
    if max_lines < 2:
        raise ValueError(f"a revenue journal entry needs at least 2 lines, not {max_lines}")
    close = ledger.close_period(period=period, by=by, today=today)
    released = ledger.read(lambda s: period_revenue(s, close.starts_on, close.ends_on))
    postings = []
    for currency, lines in sorted(released.items()):
        parts = split(lines, max_lines - 1)  # one line of each entry is the Deferred debit
        for number, part in enumerate(parts, start=1):
            suffix = f"{PART}{number}" if number > 1 else ""
            of = f", part {number} of {len(parts)}" if len(parts) > 1 else ""
            postings.append(_post(journal, close, currency, part,
                                  external_id=f"{REVENUE_ENTRY}{close.period}-{currency}{suffix}",
                                  memo=f"closebot revenue {close.period} {currency}{of}"))
    return ErpCloseReport(journal.name, close, tuple(postings),
                          tuple(_roll_forward(journal, close, postings)))


def split(lines: Sequence[RevenueLine], size: int) -> list[Sequence[RevenueLine]]:
    """`lines` in consecutive parts of at most `size`, in their order."""
    return [lines[i:i + size] for i in range(0, len(lines), size)]


def _post(journal: RevenueJournal, close: CloseReport, currency: str,
          lines: Sequence[RevenueLine], *, external_id: str, memo: str) -> ErpPosting:
    posted_on, note = close.ends_on, ""
    try:
        erp_id = journal.post_revenue(external_id=external_id, currency=currency,
                                      posted_on=posted_on, memo=memo, lines=lines)
    except PeriodClosedInErp:
        posted_on = close.ends_on + timedelta(days=1)
        note = (f"{journal.name} has closed {close.period}: posted on "
                f"{posted_on:%d %b %Y}, the first day of the next period")
        erp_id = journal.post_revenue(external_id=external_id, currency=currency,
                                      posted_on=posted_on, memo=f"{memo} ({note})", lines=lines)
    return ErpPosting(currency, external_id, erp_id, sum(line.amount_minor for line in lines),
                      posted_on, len(lines), note)


def _roll_forward(journal: RevenueJournal, close: CloseReport, postings: list[ErpPosting]
                  ) -> list[RollForward]:
    """The ERP's Deferred Revenue rolled forward with what the subledger recognized: it ties
    when the ERP released exactly that in the period (an entry the ERP moved to the next
    period shows as the difference). Each currency the subledger holds deferred revenue in,
    so a month with billings or credits and no revenue (a void) is rolled forward too."""
    recognized: dict[str, int] = {}
    for posting in postings:  # a month split into parts posts several entries per currency
        recognized[posting.currency] = recognized.get(posting.currency, 0) + posting.amount_minor
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


class ErpPeriodCloses:
    """`PeriodCloses` on NetSuite or Sage Intacct: the revenue due is the subledger's, and a
    close is `close_on_erp`."""

    def __init__(self, sessions: sessionmaker[Session], journal: RevenueJournal, *,
                 max_lines: int = MAX_JOURNAL_LINES) -> None:
        self.sessions, self.journal, self.max_lines = sessions, journal, max_lines
        self.ledger = Ledger(sessions)

    def is_closed(self, period: str) -> bool:
        subject = "period:" + name_of(parse_period(period)[0])
        return self.ledger.is_closed(period) and bool(
            self.ledger.read(lambda s: _recorded(s, subject)))

    def revenue_due(self, *, through: date) -> list[RevenueDue]:
        """What the close posts to the ERP: what the subledger released in the month (all of
        it once closed; before, what a write-off recognized early) and the rows still due."""
        period = f"{through:%Y-%m}"
        start, end = parse_period(period)
        released = self.ledger.read(lambda s: period_revenue(s, start, end))
        due = {currency: RevenueDue(currency, sum(line.amount_minor for line in lines),
                                    len(lines)) for currency, lines in released.items()}
        if not self.ledger.is_closed(period):
            for row in self.ledger.revenue_due(through=through):
                was = due.get(row.currency, RevenueDue(row.currency, 0, 0))
                due[row.currency] = RevenueDue(row.currency, was.amount_minor + row.amount_minor,
                                               was.entries + row.entries)
        return [due[currency] for currency in sorted(due)]

    def close_period(self, *, period: str, by: str, today: date) -> ErpCloseReport:
        done = close_on_erp(self.ledger, self.journal, period=period, by=by, today=today,
                            max_lines=self.max_lines)
        with transaction(self.sessions) as session:
            if _recorded(session, "period:" + done.period):
                return done  # a re-run found every entry; recorded the first time
            audit.append(session, action=POSTED, actor=by, subject="period:" + done.period,
                         erp=done.erp, entries=[
                             {"external_id": p.external_id, "erp_id": p.erp_id,
                              "currency": p.currency, "amount_minor": p.amount_minor}
                             for p in done.postings])
        return done


def _recorded(session: Session, subject: str) -> bool:
    return bool(session.scalar(select(exists().where(AuditEntry.action == POSTED,
                                                     AuditEntry.subject == subject))))


def period_revenue(session: Session, start: date, end: date) -> dict[str, list[RevenueLine]]:
    """Per currency, the revenue the subledger released in [start, end]: a line per schedule
    row (an obligation's period), credited to its revenue account (debited, a negative line, for
    a catch-up that lowers revenue)."""
    entry, line, row = LedgerJournalEntry, LedgerJournalLine, LedgerRevenueSchedule
    found: dict[str, list[RevenueLine]] = {}
    for currency, account, amount, memo, product in session.execute(
        select(entry.currency, line.account_code, line.credit_minor - line.debit_minor, entry.memo,
               LedgerSalesOrderLine.description)
        .join(line, line.entry_id == entry.id)
        .join(row, row.journal_entry_id == entry.id)
        .join(LedgerSalesOrderLine, LedgerSalesOrderLine.id == row.sales_order_line_id)
        .where(entry.source_type == "revenue_schedule", entry.posted_on >= start,
               entry.posted_on <= end, line.account_code != DEFERRED_REVENUE)
        .order_by(entry.posted_on, entry.id, line.id)
    ):
        found.setdefault(currency, []).append(
            RevenueLine(str(account), int(amount), f"{product}: {memo}"))
    return found
