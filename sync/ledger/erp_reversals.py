"""A void, after a close, of an invoice whose revenue that close posted to NetSuite or Sage
Intacct: the revenue it reverses, posted there as a journal entry.

The subledger books the void as the ledger does (`sync/ledger/closures.py`): Dr Deferred
Revenue for what was not recognized yet, Dr each revenue account for what was, Cr AR. The ERP
books its own void of what is open on the invoice against Deferred Revenue (NetSuite's credit
memo, transformed from the invoice or, when it is partly paid, of the open amount alone, whose
items carry Deferred Revenue; Sage Intacct's AR adjustment to it), Dr Deferred Revenue for all
of it. Between them the difference is the revenue the
closes had released, still in the ERP's revenue accounts and owed back to Deferred Revenue
(a debit balance there). So the ERP gets Dr each revenue account / Cr Deferred Revenue for what
the subledger's void took out of revenue, dated the void's day: both sets of books then hold
the same Revenue, Deferred Revenue and AR, in the period the void happened, as the ledger books
it. It is posted as soon as the void is followed (a controller sees the ERP right at once, not
a debit balance in Deferred Revenue until month end); external ID `closebot-reversal-<closure>`,
so a replay of the void, or a restart after a crash before the ERP answered, posts it once.

A write-off books what was earned as bad debt in the subledger and in the ERP alike (the ERP's
memo splits the invoice by what the plan had earned on its day; the subledger first recognizes
what came due by then, `recognition.recognize_billed`), so it needs no entry.

A void after a write-off finds nothing open: the ERP books nothing of its own, while the
subledger turns the bad debt back into a revenue reversal (`closures._reclassify_bad_debt`: Dr
each revenue account, split as the accounts earned it / Cr Bad Debt Expense). So the ERP gets
that entry as the subledger booked it, under the same external ID: Dr each revenue account /
Cr its bad-debt account (the "Bad debt" item's account on NetSuite, INTACCT_BAD_DEBT_ACCOUNT on
Sage Intacct, which the write-off debited), its lines summing to zero, so Deferred Revenue takes
no line.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import LedgerInvoiceClosure, LedgerJournalLine
from sync.ledger.accounts import BAD_DEBT_EXPENSE, BY_CODE
from sync.ledger.service import Ledger
from sync.ports_books import REVERSAL, SubledgerVoid
from sync.ports_revenue import PeriodClosedInErp, RevenueJournal, RevenueLine

TRIES = 12  # months a posting may move forward past periods the ERP has closed
# The revenue accounts a reversal debits, numbered as the charts of the ledger, NetSuite and
# Sage Intacct share them.
REVENUE_ACCOUNTS = tuple(code for code, account in BY_CODE.items() if account.kind == "revenue")


def post_reversal(ledger: Ledger, journal: RevenueJournal, closure_key: str) -> str | None:
    """The ERP's journal entry reversing what the void `closure_key` took out of revenue, its
    id; None when the void reversed no revenue (nothing had been closed yet)."""
    found = ledger.read(lambda s: reversed_revenue(s, closure_key))
    if found is None:
        return None
    currency, day, lines = found
    invoice = closure_key.rpartition(":")[0]
    memo = (f"closebot: bad debt reversed to revenue, Stripe invoice {invoice} voided on "
            f"{day:%d %b %Y} after its write-off"
            if any(line.account == BAD_DEBT_EXPENSE for line in lines) else
            f"closebot: revenue posted at close reversed, Stripe invoice {invoice} voided on "
            f"{day:%d %b %Y}")
    posted_on, note = day, ""
    for _ in range(TRIES):
        try:
            return journal.post_revenue(external_id=f"{REVERSAL}{closure_key}",
                                        currency=currency, posted_on=posted_on,
                                        memo=memo + note, lines=lines)
        except PeriodClosedInErp:
            # The first day of the next month: the first open period's first day.
            posted_on = (posted_on.replace(day=28) + timedelta(days=4)).replace(day=1)
            note = (f" ({journal.name} has closed {day:%Y-%m}: posted on "
                    f"{posted_on:%d %b %Y}, the first day of an open period)")
    raise PeriodClosedInErp(f"{journal.name} has every period closed from {day:%Y-%m} on "
                            f"for {len(lines)} revenue lines of the void {closure_key}")


def reversed_revenue(session: Session, closure_key: str
                     ) -> tuple[str, date, list[RevenueLine]] | None:
    """(currency, the void's day, its lines) of a void that reversed revenue; None for any
    other closure. A line per revenue account debited, its amount negative (a debit of
    revenue); a void after a write-off (nothing left open, its bad debt reclassified) also has
    the Bad Debt Expense line it credited, positive."""
    closure = session.scalar(select(LedgerInvoiceClosure)
                             .where(LedgerInvoiceClosure.external_id == closure_key))
    if closure is None or closure.kind != "void" or (
            closure.to_revenue_minor <= 0 or closure.journal_entry_id is None):
        return None
    # With nothing open, only the reclassification of a write-off's bad debt reversed revenue.
    if closure.amount_minor <= 0 and closure.to_bad_debt_minor >= 0:
        return None
    line = LedgerJournalLine
    booked = list(session.execute(
        select(line.account_code, line.debit_minor, line.credit_minor)
        .where(line.entry_id == closure.journal_entry_id).order_by(line.line_no)))
    invoice = closure_key.rpartition(":")[0]
    lines = [RevenueLine(code, -debit, f"Revenue reversed: Stripe invoice {invoice} voided")
             for code, debit, _ in booked if debit > 0 and BY_CODE[code].kind == "revenue"]
    if closure.amount_minor <= 0:
        lines += [RevenueLine(code, credit, f"Bad debt reversed: Stripe invoice {invoice} "
                                            "voided after its write-off")
                  for code, _, credit in booked if credit > 0 and code == BAD_DEBT_EXPENSE]
    return (closure.currency, closure.posted_on, lines) if lines else None


def voids(session: Session) -> list[SubledgerVoid]:
    """Every void the subledger holds, with the revenue its ERP reversal debits (0 for one that
    reversed none)."""
    found = []
    for key, currency in session.execute(
            select(LedgerInvoiceClosure.external_id, LedgerInvoiceClosure.currency)
            .where(LedgerInvoiceClosure.kind == "void").order_by(LedgerInvoiceClosure.id)):
        reversal = reversed_revenue(session, key)
        lines = reversal[2] if reversal else []
        found.append(SubledgerVoid(
            key.rpartition(":")[0], key, currency,
            -sum(x.amount_minor for x in lines if x.account != BAD_DEBT_EXPENSE),
            sum(x.amount_minor for x in lines if x.account == BAD_DEBT_EXPENSE)))
    return found
