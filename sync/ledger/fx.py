"""Journal entries in the functional currency, beside their transaction-currency lines.

When a functional currency is configured (`Ledger(..., functional_currency=...)`, which puts it
in each session's `info`), every entry also gets `ledger_functional_lines`: its legs converted
at one rate and split so they balance to the cent (largest remainder over the legs of each
side). The rate depends on what the entry is:

- anything else: the rate of the entry's own day (`fx_rates.rate_on`, latest on or before);
- a revenue release (Dr Deferred Revenue / Cr revenue): the rate of the invoice that deferred
  it — deferred revenue is not remeasured (it is settled by delivering, not by paying), so it
  leaves at the historical rate it came in at;
- a payment: Clearing at the payment day's rate, Accounts Receivable at the invoice's rate, and
  the difference to Realized FX Gain/Loss.

No rate → `FxRateMissingError`, raised inside the posting's transaction: nothing is posted half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import LedgerAccount, LedgerInvoice, LedgerJournalEntry, LedgerPayment
from sync.ledger import accounts as acct
from sync.ledger.books import AccountBalance, TrialBalance
from sync.ledger.fx_rates import rate_on
from sync.money import exponent, round_to_minor
from sync.revenue.allocation import largest_remainder

FUNCTIONAL = "closebot.functional_currency"


@dataclass(frozen=True)
class FunctionalLeg:
    account: str
    debit: int
    credit: int
    rate: Decimal


def functional_currency(session: Session) -> str | None:
    value = session.info.get(FUNCTIONAL)
    return str(value) if value else None


def convert(amount_minor: int, currency: str, functional: str, rate: Decimal) -> int:
    """`amount_minor` of `currency` in `functional` minor units, half up."""
    if currency == functional:
        return amount_minor
    value = Decimal(amount_minor).scaleb(-exponent(currency)) * rate
    return round_to_minor(value, functional)


def converted_legs(legs: Sequence[Any], currency: str, functional: str, rate: Decimal
                   ) -> list[FunctionalLeg]:
    """The legs at `rate`: the converted total spread over each side in proportion, so the
    debits and credits both add up to it exactly."""
    total = sum(leg.debit for leg in legs)
    converted = convert(total, currency, functional, rate)
    debits = largest_remainder(converted, [leg.debit for leg in legs])
    credits = largest_remainder(converted, [leg.credit for leg in legs])
    return [FunctionalLeg(leg.account, d, c, rate)
            for leg, d, c in zip(legs, debits, credits, strict=True)]


def write(session: Session, entry_id: int, legs: Sequence[FunctionalLeg], functional: str
          ) -> None:
    rows = functional_rows(entry_id, legs, functional)
    if rows:
        session.execute(insert(LedgerFunctionalLine.__table__), rows)


def functional_rows(entry_id: int, legs: Sequence[FunctionalLeg], functional: str
                    ) -> list[dict[str, Any]]:
    # A leg that converts to nothing (a few units of a currency worth far less) has no line.
    return [
        {"entry_id": entry_id, "line_no": n, "account_code": leg.account,
         "debit_minor": leg.debit, "credit_minor": leg.credit, "currency": functional,
         "rate": leg.rate}
        for n, leg in enumerate((x for x in legs if x.debit or x.credit), start=1)
    ]


def at_day_rate(session: Session, legs: Sequence[Any], currency: str, on: date
                ) -> list[FunctionalLeg] | None:
    """The legs at `on`'s rate, or None when no functional currency is configured."""
    functional = functional_currency(session)
    if functional is None:
        return None
    return converted_legs(legs, currency, functional, rate_on(session, currency, functional, on))


def entry_rate(session: Session, entry_id: int | None) -> Decimal | None:
    """The rate an entry's functional lines were converted at (its first line's)."""
    if entry_id is None:
        return None
    value = session.scalar(
        select(LedgerFunctionalLine.rate).where(LedgerFunctionalLine.entry_id == entry_id)
        .order_by(LedgerFunctionalLine.line_no).limit(1))
    return None if value is None else Decimal(value)


def invoice_rate(session: Session, invoice: LedgerInvoice, functional: str) -> Decimal:
    """The rate the invoice was booked at; its day's rate if it was booked before a functional
    currency was configured."""
    rate = entry_rate(session, invoice.journal_entry_id)
    if rate is None:
        rate = rate_on(session, invoice.currency, functional, invoice.issued_on)
    return rate


def payment_legs(session: Session, invoice: LedgerInvoice, amount_minor: int, clearing: str,
                 paid_on: date) -> list[FunctionalLeg] | None:
    """Dr Clearing at `paid_on`'s rate, Cr AR at the invoice's rate, the rest realized FX.

    AR is relieved by cumulative amounts (what all payments so far relieve, less what earlier
    ones did), so an invoice paid in parts leaves exactly nothing in AR."""
    functional = functional_currency(session)
    if functional is None:
        return None
    currency = invoice.currency
    paid_rate = rate_on(session, currency, functional, paid_on)
    booked_rate = invoice_rate(session, invoice, functional)
    earlier = int(session.scalar(
        select(func.coalesce(func.sum(LedgerPayment.amount_minor), 0))
        .where(LedgerPayment.invoice_id == invoice.id)) or 0)
    relieved = (convert(earlier + amount_minor, currency, functional, booked_rate)
                - convert(earlier, currency, functional, booked_rate))
    received = convert(amount_minor, currency, functional, paid_rate)
    legs = [FunctionalLeg(clearing, received, 0, paid_rate),
            FunctionalLeg(acct.RECEIVABLE, 0, relieved, booked_rate)]
    if received > relieved:
        legs.append(FunctionalLeg(acct.REALIZED_FX, 0, received - relieved, Decimal(1)))
    elif relieved > received:
        legs.append(FunctionalLeg(acct.REALIZED_FX, relieved - received, 0, Decimal(1)))
    return legs


def functional_lines(session: Session, entry_id: int) -> list[LedgerFunctionalLine]:
    return list(session.scalars(
        select(LedgerFunctionalLine).where(LedgerFunctionalLine.entry_id == entry_id)
        .order_by(LedgerFunctionalLine.line_no)))


def at_invoice_rate(session: Session, invoice: LedgerInvoice, legs: Sequence[Any]
                    ) -> list[FunctionalLeg] | None:
    """A credit, void or write-off on an invoice takes back what the invoice booked, at the
    rate it was booked at; None when no functional currency is configured."""
    functional = functional_currency(session)
    if functional is None:
        return None
    rate = invoice_rate(session, invoice, functional)
    return converted_legs(legs, invoice.currency, functional, rate)


def trial_balance(session: Session) -> dict[str, int]:
    """Debit-positive balance per account in the functional currency (the values sum to 0)."""
    line = LedgerFunctionalLine
    return {code: int(total) for code, total in session.execute(
        select(line.account_code, func.sum(line.debit_minor - line.credit_minor))
        .group_by(line.account_code).order_by(line.account_code)) if total}


def trial_balances(session: Session, *, as_of: date) -> list[TrialBalance]:
    """`sync.ledger.books.trial_balances` in the functional currency: one book, every entry
    posted on or before `as_of` (empty when no functional currency was ever configured)."""
    line = LedgerFunctionalLine
    net = func.sum(line.debit_minor - line.credit_minor)
    rows = session.execute(
        select(line.currency, line.account_code, LedgerAccount.name, net)
        .join(LedgerJournalEntry, LedgerJournalEntry.id == line.entry_id)
        .join(LedgerAccount, LedgerAccount.code == line.account_code)
        .where(LedgerJournalEntry.posted_on <= as_of)
        .group_by(line.currency, line.account_code, LedgerAccount.name)
        .order_by(line.currency, line.account_code)).all()
    books: dict[str, list[AccountBalance]] = {}
    for currency, code, name, total in rows:
        if total:
            books.setdefault(currency, []).append(
                AccountBalance(code, name, max(int(total), 0), max(-int(total), 0)))
    return [TrialBalance(currency, accounts) for currency, accounts in books.items()]
