"""Open foreign-currency monetary balances on a day, with their functional carrying amounts.

Read from the journal itself (the lines posted on or before the day), so what is revalued is
what the books hold: an invoice's receivable is the sum of the Accounts Receivable lines of the
entries that belong to it (the invoice, its payments, credit memos, void or write-off, their
reversals and its revaluations); a pooled account's, per transaction currency, of every entry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import (
    LedgerCreditMemo,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerPayment,
)
from sync.ledger import accounts as acct

SOURCE = "fx_revaluation"


def _invoice_of_entries(session: Session) -> dict[int, int]:
    """The invoice (its id) each entry belongs to, for the entries that belong to one."""
    found: dict[int, int] = dict(session.execute(
        select(LedgerInvoice.journal_entry_id, LedgerInvoice.id)
        .where(LedgerInvoice.journal_entry_id.is_not(None))).all())
    for settlement in (LedgerPayment, LedgerCreditMemo, LedgerInvoiceClosure):
        found.update(session.execute(
            select(settlement.journal_entry_id, settlement.invoice_id)
            .where(settlement.journal_entry_id.is_not(None))).all())
    found.update(session.execute(
        select(LedgerJournalEntry.id, LedgerInvoice.id)
        .join(LedgerInvoice, LedgerInvoice.external_id == LedgerJournalEntry.source_ref)
        .where(LedgerJournalEntry.source_type == SOURCE)).all())
    # A reversal belongs where the entry it reverses does (a reversal of a reversal too).
    reversals = session.execute(
        select(LedgerJournalEntry.id, LedgerJournalEntry.reverses_id)
        .where(LedgerJournalEntry.reverses_id.is_not(None))
        .order_by(LedgerJournalEntry.id)).all()
    for entry_id, reverses in reversals:
        if reverses in found:
            found[entry_id] = found[reverses]
    return found


def receivables_by_invoice(session: Session, end: date) -> list[tuple[str, str, int, int]]:
    """(invoice external ID, currency, receivable, functional carrying amount) of each invoice
    whose entries left something in Accounts Receivable on `end`; amounts debit-positive."""
    invoice_of = _invoice_of_entries(session)
    held: dict[int, int] = defaultdict(int)
    carried: dict[int, int] = defaultdict(int)
    for table, into in ((LedgerJournalLine, held), (LedgerFunctionalLine, carried)):
        for entry_id, net in session.execute(
                select(table.entry_id, func.sum(table.debit_minor - table.credit_minor))
                .join(LedgerJournalEntry, LedgerJournalEntry.id == table.entry_id)
                .where(table.account_code == acct.RECEIVABLE,
                       LedgerJournalEntry.posted_on <= end)
                .group_by(table.entry_id)).all():
            if entry_id in invoice_of:
                into[invoice_of[entry_id]] += int(net or 0)
    open_ids = sorted(i for i in set(held) | set(carried) if held[i] or carried[i])
    if not open_ids:
        return []
    # An invoice booked before a functional currency was configured has no carrying amount
    # there to remeasure: it is left as it was booked.
    booked = exists().where(LedgerFunctionalLine.entry_id == LedgerInvoice.journal_entry_id)
    invoices = session.execute(
        select(LedgerInvoice.id, LedgerInvoice.external_id, LedgerInvoice.currency)
        .where(LedgerInvoice.id.in_(open_ids), booked).order_by(LedgerInvoice.id)).all()
    return [(str(ext), str(currency), held[i], carried[i]) for i, ext, currency in invoices]


def pooled(session: Session, account: str, end: date) -> list[tuple[str, tuple[int, int]]]:
    """Per transaction currency, `account`'s balance on `end` and its functional carrying
    amount (the functional lines of the entries in that currency). Entries posted before a
    functional currency was configured count in neither."""
    entry, line, fline = LedgerJournalEntry, LedgerJournalLine, LedgerFunctionalLine
    held = dict(session.execute(
        select(line.currency, func.sum(line.debit_minor - line.credit_minor))
        .join(entry, entry.id == line.entry_id)
        .where(line.account_code == account, entry.posted_on <= end,
               exists().where(fline.entry_id == entry.id))
        .group_by(line.currency)).all())
    carried = dict(session.execute(
        select(entry.currency, func.sum(fline.debit_minor - fline.credit_minor))
        .join(entry, entry.id == fline.entry_id)
        .where(fline.account_code == account, entry.posted_on <= end)
        .group_by(entry.currency)).all())
    return [(str(c), (int(held[c] or 0), int(carried.get(c) or 0))) for c in sorted(held)]
