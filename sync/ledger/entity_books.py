"""Each legal entity's trial balance on the embedded ledger.

An entry belongs to the deal whose record caused it: an invoice, a payment, credit memo, void or
write-off on an invoice, or a revenue schedule row of a sales order (each invoice and order of a
deal's contract version, whose external ID starts with the opportunity). The deal's entity is
the one its contract records. Every entry balances, so every entity's entries do: an entity's
trial balance adds to zero in each currency. The cash run's entries (payouts, fees, refunds,
disputes) belong to the entity whose own Stripe account they were booked from, as each entry
records; those of the company's Stripe account count under no entity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import (
    LedgerCreditMemo,
    LedgerInvoice,
    LedgerInvoiceClosure,
    LedgerJournalEntry,
    LedgerJournalLine,
    LedgerPayment,
    LedgerRevenueSchedule,
    LedgerSalesOrder,
    LedgerSalesOrderLine,
)

NO_ENTITY = "(no entity)"
Balances = dict[str, dict[str, dict[str, int]]]  # entity → currency → account → debit-positive


def _order_of_entries(session: Session) -> dict[int, str]:
    """The sales order (its external ID, `<opportunity>:v<version>`) behind each entry."""
    found: dict[int, str] = {}
    order = LedgerSalesOrder.external_id
    for settlement in (LedgerPayment, LedgerCreditMemo, LedgerInvoiceClosure):
        found.update(session.execute(
            select(settlement.journal_entry_id, order)
            .join(LedgerInvoice, LedgerInvoice.id == settlement.invoice_id)
            .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerInvoice.sales_order_id)
            .where(settlement.journal_entry_id.is_not(None))).all())
    found.update(session.execute(
        select(LedgerInvoice.journal_entry_id, order)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerInvoice.sales_order_id)
        .where(LedgerInvoice.journal_entry_id.is_not(None))).all())
    found.update(session.execute(
        select(LedgerRevenueSchedule.journal_entry_id, order)
        .join(LedgerSalesOrderLine,
              LedgerSalesOrderLine.id == LedgerRevenueSchedule.sales_order_line_id)
        .join(LedgerSalesOrder, LedgerSalesOrder.id == LedgerSalesOrderLine.sales_order_id)
        .where(LedgerRevenueSchedule.journal_entry_id.is_not(None))).all())
    # A correction belongs where the entry it reverses does.
    for entry_id, reverses in session.execute(
            select(LedgerJournalEntry.id, LedgerJournalEntry.reverses_id)
            .where(LedgerJournalEntry.reverses_id.is_not(None))).all():
        if reverses in found:
            found[entry_id] = found[reverses]
    return found


def trial_balances_by_entity(session: Session, entity_of: Mapping[str, str]) -> Balances:
    """Per entity (by `entity_of`: opportunity → entity), per currency, each account's
    debit-positive balance (credits negative), so each currency's values add to zero."""
    orders = _order_of_entries(session)
    rows = session.execute(
        select(LedgerJournalLine.entry_id, LedgerJournalLine.currency,
               LedgerJournalLine.account_code,
               func.sum(LedgerJournalLine.debit_minor - LedgerJournalLine.credit_minor))
        .group_by(LedgerJournalLine.entry_id, LedgerJournalLine.currency,
                  LedgerJournalLine.account_code)).all()
    booked = dict(session.execute(
        select(LedgerJournalEntry.id, LedgerJournalEntry.entity)
        .where(LedgerJournalEntry.entity.is_not(None))).all())
    out: Balances = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for entry_id, currency, account, net in rows:
        order = orders.get(entry_id)
        opportunity = order.rsplit(":v", 1)[0] if order else None
        entity = booked.get(entry_id) or entity_of.get(opportunity or "", NO_ENTITY)
        out[entity][currency][account] += int(net or 0)
    # An entry that nets to nothing on every account (a month-end FX revaluation, in its own
    # currency) leaves no empty book behind.
    books = {entity: {cur: {acct: v for acct, v in sorted(accts.items()) if v}
                      for cur, accts in sorted(curs.items())}
             for entity, curs in sorted(out.items())}
    return {entity: {cur: accts for cur, accts in curs.items() if accts}
            for entity, curs in books.items() if any(curs.values())}


def account_balance(session: Session, entity_of: Mapping[str, str], code: str, currency: str,
                    entities: Collection[str]) -> int:
    """One account's debit-positive balance in one currency over these entities' books
    (`NO_ENTITY` among them for the entries of no entity)."""
    books = trial_balances_by_entity(session, entity_of)
    return sum(books.get(entity, {}).get(currency, {}).get(code, 0) for entity in entities)
