"""Cash postings on the embedded ledger: a `CashPosting`'s roles mapped to the chart, and the
reads the cash audit needs (what each external ID did to Stripe Clearing)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.ledger import LedgerJournalEntry, LedgerJournalLine
from sync import ports_cash as roles
from sync.ledger import accounts as acct
from sync.ledger import fx
from sync.ledger.fx_clearing import is_payout, payout_legs
from sync.ledger.journal import EntryIn, Leg, post_entries, post_entry

ACCOUNT_OF = {
    roles.CLEARING: acct.STRIPE_CLEARING,
    roles.RECEIVABLE: acct.RECEIVABLE,
    roles.CUSTOMER_CREDIT: acct.CUSTOMER_CREDIT,
    roles.PROCESSING_FEES: acct.PROCESSING_FEES,
    roles.DISPUTED_FUNDS: acct.DISPUTED_FUNDS,
    roles.DISPUTE_FEES: acct.DISPUTE_FEES,
    roles.CHARGEBACK_LOSSES: acct.CHARGEBACK_LOSSES,
    roles.CASH: acct.CASH,
}


def _entry(posting: roles.CashPosting) -> EntryIn:
    return EntryIn(
        external_id=posting.external_id, memo=posting.memo, posted_on=posting.posted_on,
        currency=posting.currency, source_type="cash", source_ref=posting.source_ref,
        legs=[Leg(ACCOUNT_OF[leg.role], debit=leg.debit, credit=leg.credit)
              for leg in posting.legs],
        entity=posting.entity,
    )


def create_cash_entry(session: Session, posting: roles.CashPosting) -> LedgerJournalEntry:
    e = _entry(posting)
    return post_entry(session, external_id=e.external_id, memo=e.memo, posted_on=e.posted_on,
                      currency=e.currency, source_type=e.source_type, source_ref=e.source_ref,
                      legs=e.legs, entity=e.entity,
                      functional=payout_legs(session, e.legs, e.currency, e.posted_on))


def create_cash_entries(session: Session, postings: Sequence[roles.CashPosting]) -> int:
    """Write the entries of `postings` whose external ids aren't in the journal yet, in bulk;
    how many were written."""
    have = set(session.scalars(select(LedgerJournalEntry.external_id).where(
        LedgerJournalEntry.external_id.in_([p.external_id for p in postings]))))
    fresh = [_entry(p) for p in {p.external_id: p for p in postings
                                 if p.external_id not in have}.values()]
    # In a functional currency a payout relieves Clearing at what it carries, so it goes after
    # what it sweeps, one by one.
    payouts = ([e for e in fresh if is_payout(e.legs)]
               if fx.functional_currency(session) is not None else [])
    count = post_entries(session, [e for e in fresh if e not in payouts])
    for e in payouts:
        post_entry(session, external_id=e.external_id, memo=e.memo, posted_on=e.posted_on,
                   currency=e.currency, source_type=e.source_type, source_ref=e.source_ref,
                   legs=e.legs, entity=e.entity,
                   functional=payout_legs(session, e.legs, e.currency, e.posted_on))
    return count + len(payouts)


def clearing_effects(session: Session, external_ids: Sequence[str]) -> dict[str, int]:
    """Of these entries, the posted ones and what each did to Stripe Clearing (debit positive);
    an entry that doesn't touch Clearing maps to 0."""
    found = dict.fromkeys(
        session.scalars(
            select(LedgerJournalEntry.external_id)
            .where(LedgerJournalEntry.external_id.in_(list(external_ids)))
        ),
        0,
    )
    rows = session.execute(
        select(
            LedgerJournalEntry.external_id,
            func.sum(LedgerJournalLine.debit_minor - LedgerJournalLine.credit_minor),
        )
        .join(LedgerJournalLine, LedgerJournalLine.entry_id == LedgerJournalEntry.id)
        .where(
            LedgerJournalEntry.external_id.in_(list(external_ids)),
            LedgerJournalLine.account_code == acct.STRIPE_CLEARING,
        )
        .group_by(LedgerJournalEntry.external_id)
    )
    found.update({ext: int(net or 0) for ext, net in rows})
    return found
