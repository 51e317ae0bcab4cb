"""A payout in the functional currency: Stripe Clearing relieved at what it carries.

Money comes into Clearing at the rate of its own day (a payment at the payment day's, a fee or
a refund out at its own day's). A payout takes it out to the bank at the payout day's rate, so
converting the payout's Clearing line at that rate too would leave the difference in Clearing
for ever. Clearing is a monetary item: the payout relieves it at its carrying amount (the
functional balance of Clearing in the payout's currency on the payout day, in proportion to the
payout's share of the balance in that currency), Cash gets the payout day's rate, and the
difference is realized (Realized FX Gain/Loss, ASC 830-20-35-1). A payout that sweeps the whole
balance in its currency leaves Clearing at exactly zero in the functional currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import LedgerJournalEntry, LedgerJournalLine
from sync.ledger import accounts as acct
from sync.ledger.fx import FunctionalLeg, convert, converted_legs, functional_currency
from sync.ledger.fx_rates import rate_on
from sync.ledger.journal import Leg
from sync.money import exponent


def is_payout(legs: Sequence[Leg]) -> bool:
    """Money out of Clearing to the bank (Dr Cash / Cr Clearing) and nothing else."""
    return ({leg.account for leg in legs} == {acct.CASH, acct.STRIPE_CLEARING}
            and all(leg.credit for leg in legs if leg.account == acct.STRIPE_CLEARING))


def clearing_held(session: Session, currency: str, on: date) -> tuple[int, int]:
    """Stripe Clearing's debit balance from entries in `currency` posted on or before `on`:
    in that currency, and in the functional currency."""
    entry = LedgerJournalEntry
    held = session.scalar(
        select(func.coalesce(func.sum(LedgerJournalLine.debit_minor
                                      - LedgerJournalLine.credit_minor), 0))
        .join(entry, entry.id == LedgerJournalLine.entry_id)
        .where(LedgerJournalLine.account_code == acct.STRIPE_CLEARING,
               LedgerJournalLine.currency == currency, entry.posted_on <= on))
    line = LedgerFunctionalLine
    held_functional = session.scalar(
        select(func.coalesce(func.sum(line.debit_minor - line.credit_minor), 0))
        .join(entry, entry.id == line.entry_id)
        .where(line.account_code == acct.STRIPE_CLEARING, entry.currency == currency,
               entry.posted_on <= on))
    return int(held or 0), int(held_functional or 0)


def payout_legs(session: Session, legs: Sequence[Leg], currency: str, on: date
                ) -> list[FunctionalLeg] | None:
    """The payout's functional legs: Cash at `on`'s rate, Clearing at its carrying amount, the
    difference to Realized FX Gain/Loss. Any other entry (and a payout when Clearing holds
    nothing in its currency) is converted at `on`'s rate; None with no functional currency."""
    functional = functional_currency(session)
    if functional is None:
        return None
    rate = rate_on(session, currency, functional, on)
    if currency == functional or not is_payout(legs):
        return converted_legs(legs, currency, functional, rate)
    paid = sum(leg.credit for leg in legs)
    held, held_functional = clearing_held(session, currency, on)
    if held <= 0 or held_functional <= 0:
        return converted_legs(legs, currency, functional, rate)
    relieved = int((Decimal(held_functional) * paid / held)
                   .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    received = convert(paid, currency, functional, rate)
    # The rate Clearing carried the payout at, for the line's record (the amount is exact).
    carrying = (Decimal(relieved).scaleb(-exponent(functional))
                / Decimal(paid).scaleb(-exponent(currency))).quantize(Decimal("1e-12"))
    out = [FunctionalLeg(acct.CASH, received, 0, rate),
           FunctionalLeg(acct.STRIPE_CLEARING, 0, relieved, carrying)]
    if received > relieved:
        out.append(FunctionalLeg(acct.REALIZED_FX, 0, received - relieved, Decimal(1)))
    elif relieved > received:
        out.append(FunctionalLeg(acct.REALIZED_FX, relieved - received, 0, Decimal(1)))
    return out
