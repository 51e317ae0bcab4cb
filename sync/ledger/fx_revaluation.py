"""Month-end revaluation of open foreign-currency monetary balances (ASC 830-20-35-2).

A receivable, Stripe Clearing or a customer credit balance in a foreign currency is a monetary
item: at each period end its functional carrying amount is brought to the balance at the
period-end rate, the difference an unrealized (transaction) gain or loss in earnings. Each
balance revalued gets one entry dated the period's last day, in the functional currency only
(Dr or Cr the account / Cr or Dr Unrealized FX Gain/Loss), and its reversal on the next day
(the auto-reversing method): the realized gain or loss at settlement stays computed from the
historical rate, as without revaluation.

Journal entries need balanced positive lines in their own currency, and a revaluation moves
nothing there: its lines are the open balance debited and credited to the same account (it
nets to zero in every transaction-currency report); its functional lines carry the adjustment.
Accounts Receivable is revalued per invoice (the entries of the invoice, its payments, credits,
voids, write-offs, their reversals and earlier revaluations), Clearing and customer credit
balances per currency. Keyed `fx-reval:<period>:<subject>`: a re-run posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.fx_tables import LedgerFunctionalLine
from storage.ledger import LedgerJournalEntry, LedgerJournalLine
from sync.ledger import accounts as acct
from sync.ledger import periods
from sync.ledger.fx import FunctionalLeg, convert, functional_currency, functional_rows
from sync.ledger.fx_open import SOURCE, pooled, receivables_by_invoice
from sync.ledger.fx_rates import rate_on
from sync.ledger.journal import PREFIXES, next_ids
from sync.money import format_money

# Revalued per currency as a whole (AR is per invoice, see `receivables_by_invoice`).
POOLED = (acct.STRIPE_CLEARING, acct.CUSTOMER_CREDIT)


@dataclass(frozen=True)
class Remeasure:
    """One open balance at the period end; amounts debit-positive."""

    account: str
    subject: str  # the invoice's external ID, or the currency for a pooled account
    currency: str
    open_minor: int  # in the transaction currency
    carried: int  # its functional carrying amount
    rate: Decimal  # the period-end rate
    remeasured: int  # open_minor at `rate`

    @property
    def adjustment(self) -> int:
        return self.remeasured - self.carried


@dataclass(frozen=True)
class CurrencyRevaluation:
    """What a close revalued in one currency: `gain` in functional minor units (a loss < 0)."""

    currency: str
    functional: str
    rate: Decimal
    balances: int
    gain: int


def plan(session: Session, end: date) -> list[Remeasure]:
    """Every open foreign-currency monetary balance on `end` whose carrying amount differs
    from its value at `end`'s rate. Reads every rate before anything is posted: a missing one
    raises `FxRateMissingError` naming the pair and the day."""
    functional = functional_currency(session)
    if functional is None:
        return []
    held = [(acct.RECEIVABLE, *row) for row in receivables_by_invoice(session, end)]
    held += [(account, currency, currency, *amounts)
             for account in POOLED for currency, amounts in pooled(session, account, end)]
    rates: dict[str, Decimal] = {}
    found = []
    for account, subject, currency, open_minor, carried in held:
        if currency == functional or open_minor == 0:
            continue
        if currency not in rates:
            rates[currency] = rate_on(session, currency, functional, end)
        value = _signed(open_minor, currency, functional, rates[currency])
        if value != carried:
            found.append(Remeasure(account, subject, currency, open_minor, carried,
                                   rates[currency], value))
    return found


def _signed(amount: int, currency: str, functional: str, rate: Decimal) -> int:
    value = convert(abs(amount), currency, functional, rate)
    return value if amount > 0 else -value


def post(session: Session, period: str, end: date, found: list[Remeasure]) -> int:
    """The revaluation entries dated `end` and their reversals the next day, written in bulk
    as `journal.post_entries` writes a close's revenue (lines first, then their entries);
    returns how many balances were revalued (none again for an external ID already posted)."""
    prefix = f"fx-reval:{period}:"
    posted = set(session.scalars(select(LedgerJournalEntry.external_id).where(
        LedgerJournalEntry.external_id.like(f"{prefix}%"))))
    todo = [(prefix + _subject(item), item) for item in found]
    todo = [(key, item) for key, item in todo if key not in posted]
    if not todo:
        return 0
    functional = str(functional_currency(session))
    lock = periods.closed_through(session)
    day, note = periods.posting_day_after(lock, end)
    back, back_note = periods.posting_day_after(lock, end + timedelta(days=1))
    ids = next_ids(session, LedgerJournalEntry.__tablename__, 2 * len(todo))
    lines: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    amounts: list[dict[str, Any]] = []
    for n, (key, item) in enumerate(todo):
        first, second = ids[2 * n], ids[2 * n + 1]
        total = abs(item.open_minor)
        number = f"{PREFIXES[LedgerJournalEntry.__tablename__]}-{first:06d}"
        for entry_id in (first, second):
            lines += [{"entry_id": entry_id, "line_no": 1, "account_code": item.account,
                       "debit_minor": total, "credit_minor": 0, "currency": item.currency},
                      {"entry_id": entry_id, "line_no": 2, "account_code": item.account,
                       "debit_minor": 0, "credit_minor": total, "currency": item.currency}]
        entries += [
            _entry(first, key, _memo(item, functional, end) + note, day, item, SOURCE,
                   item.subject, None),
            _entry(second, f"{key}:reversal",
                   f"Reversal of the {end:%d %b %Y} FX revaluation ({number}){back_note}",
                   back, item, "reversal", number, first)]
        legs = _legs(item)
        amounts += functional_rows(first, legs, functional) + functional_rows(
            second, [FunctionalLeg(g.account, g.credit, g.debit, g.rate) for g in legs],
            functional)
    session.execute(insert(LedgerJournalLine.__table__), lines)
    session.execute(insert(LedgerJournalEntry.__table__), entries)
    session.execute(insert(LedgerFunctionalLine.__table__), amounts)
    return len(todo)


def _subject(item: Remeasure) -> str:
    return item.subject if item.account == acct.RECEIVABLE else f"{item.account}:{item.currency}"


def _entry(entry_id: int, key: str, memo: str, day: date, item: Remeasure, source: str,
           ref: str, reverses: int | None) -> dict[str, Any]:
    return {"id": entry_id, "number": f"{PREFIXES[LedgerJournalEntry.__tablename__]}-"
            f"{entry_id:06d}", "external_id": key, "memo": memo[:500], "posted_on": day,
            "currency": item.currency, "total_minor": abs(item.open_minor),
            "source_type": source, "source_ref": ref, "reverses_id": reverses, "entity": None}


def _legs(item: Remeasure) -> list[FunctionalLeg]:
    up, down = max(item.adjustment, 0), max(-item.adjustment, 0)
    return [FunctionalLeg(item.account, up, down, item.rate),
            FunctionalLeg(acct.UNREALIZED_FX, down, up, Decimal(1))]


def _memo(item: Remeasure, functional: str, end: date) -> str:
    name = acct.BY_CODE[item.account].name
    what = f"{name} {item.subject}" if item.account == acct.RECEIVABLE else name
    return (f"FX revaluation of {what} at {end:%d %b %Y}: "
            f"{format_money(abs(item.open_minor), item.currency)} at {item.rate.normalize()} = "
            f"{format_money(abs(item.remeasured), functional)}, carried at "
            f"{format_money(abs(item.carried), functional)}: unrealized "
            # More asset or less liability (a debit to the account) is a gain.
            f"{'gain' if item.adjustment > 0 else 'loss'} "
            f"{format_money(abs(item.adjustment), functional)}")


def summary(session: Session, period: str) -> list[CurrencyRevaluation]:
    """Per transaction currency, what the period's revaluation entries booked to Unrealized FX
    Gain/Loss (read from the entries, so a re-run reports what the first run posted)."""
    entry, fline = LedgerJournalEntry, LedgerFunctionalLine
    rows = session.execute(
        select(entry.currency, fline.currency, func.count(entry.id.distinct()),
               func.sum(fline.credit_minor - fline.debit_minor))
        .join(fline, fline.entry_id == entry.id)
        .where(entry.source_type == SOURCE, entry.external_id.like(f"fx-reval:{period}:%"),
               fline.account_code == acct.UNREALIZED_FX)
        .group_by(entry.currency, fline.currency).order_by(entry.currency)).all()
    rates = dict(session.execute(
        select(entry.currency, func.max(fline.rate))
        .join(fline, fline.entry_id == entry.id)
        .where(entry.source_type == SOURCE, entry.external_id.like(f"fx-reval:{period}:%"),
               fline.account_code != acct.UNREALIZED_FX)
        .group_by(entry.currency)).all())
    return [CurrencyRevaluation(str(c), str(f), Decimal(rates.get(c) or 0).normalize(),
                                int(n), int(gain or 0))
            for c, f, n, gain in rows]
