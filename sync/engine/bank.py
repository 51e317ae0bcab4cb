"""Importing a bank statement: store its lines by key, match them to Stripe payouts, and raise
what doesn't match as exceptions for finance.

The statement is parsed whole before anything is written, and its new lines are stored in one
transaction, so a damaged file imports nothing. Stripe is read with no transaction open. The
match is recorded only on lines still unmatched (a unique payout column besides), so a re-import,
a second import running at once, or a crash and a rerun matches nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.bank_tables import BankLineRow
from storage.db import transaction
from storage.statements import dialect_of, upsert_insert
from storage.timeutil import utcnow
from sync.cash.bank_lines import BankLine, Statement
from sync.cash.bank_match import EARLY, LATE, Match, match, overdue
from sync.engine import exceptions
from sync.money import format_money
from sync.ports_bank import Payout, Payouts

UNMATCHED_LINE, MISSING_PAYOUT = "bank_line_unmatched", "payout_not_in_bank"
SHOWN = 5  # items spelled out in an exception's reason; all are in its detail
CHUNK = 500
LINE = (BankLineRow.key, BankLineRow.account, BankLineRow.posted_on, BankLineRow.amount_minor,
        BankLineRow.currency, BankLineRow.reference, BankLineRow.text)  # BankLine's fields


@dataclass
class ImportResult:
    format: str
    lines: int
    new_lines: int
    matched: list[Match] = field(default_factory=list)
    unmatched_lines: list[BankLine] = field(default_factory=list)
    missing_payouts: list[Payout] = field(default_factory=list)


def import_statement(sessions: sessionmaker[Session], statement: Statement,
                     payouts: Payouts) -> ImportResult:
    with sessions() as session:
        first, last = session.execute(select(
            func.min(BankLineRow.posted_on), func.max(BankLineRow.posted_on)).where(
            BankLineRow.payout_id.is_(None))).one()
    days = [d for d in (first, last, statement.starts, statement.ends) if d is not None]
    # Stripe is read before anything is stored: if it can't be, the import changes nothing.
    listed = [p for page in payouts.payouts(arriving_from=min(days) - LATE,
                                            arriving_to=max(days) + EARLY) for p in page]
    with transaction(sessions) as session:
        new = _store(session, statement)
        open_lines = [BankLine(*row) for row in session.execute(select(*LINE).where(
            BankLineRow.payout_id.is_(None)))]
        done = set(session.scalars(select(BankLineRow.payout_id).where(
            BankLineRow.payout_id.is_not(None))))
        covered = session.scalar(select(func.max(BankLineRow.posted_on)))
        waiting = [p for p in listed if p.id not in done]
        found = _record(session, match(waiting, open_lines))
        paired = {m.payout_id for m in found}
        keys = {m.line_key for m in found}
        unmatched = [line for line in open_lines if line.key not in keys]
        missing = overdue([p for p in waiting if p.id not in paired], covered_through=covered)
        _raise(session, unmatched, missing, covered_through=covered)
    return ImportResult(format=statement.format, lines=len(statement.lines), new_lines=new,
                        matched=found, unmatched_lines=unmatched, missing_payouts=missing)


def _store(session: Session, statement: Statement) -> int:
    """Insert the lines not yet stored; the count before and after says how many were new."""
    before = session.scalar(select(func.count()).select_from(BankLineRow)) or 0
    now = utcnow()
    rows = [dict(key=line.key, account=line.account[:64], posted_on=line.posted_on,
                 amount_minor=line.amount_minor, currency=line.currency,
                 reference=line.reference[:120], text=line.text, format=statement.format,
                 imported_at=now)
            for line in statement.lines]
    insert = upsert_insert(dialect_of(session))
    for i in range(0, len(rows), CHUNK):
        # The table, not the mapped class: a plain executemany, no ORM bookkeeping per row.
        session.execute(insert(BankLineRow.__table__)
                        .on_conflict_do_nothing(index_elements=["key"]),
                        rows[i:i + CHUNK])
    return (session.scalar(select(func.count()).select_from(BankLineRow)) or 0) - before


def _record(session: Session, found: list[Match]) -> list[Match]:
    """Write the pairs on lines still unmatched; return those that were written. A line taken
    meanwhile by a concurrent import keeps its payout; the unique payout column refuses a
    second line for one payout (the whole import then rolls back, and a rerun finds it done)."""
    if not found:
        return []
    table = BankLineRow.__table__
    session.execute(
        update(table).where(table.c.key == bindparam("line"), table.c.payout_id.is_(None))
        .values(payout_id=bindparam("payout"), matched_how=bindparam("how"),
                matched_at=utcnow()),
        [{"line": m.line_key, "payout": m.payout_id, "how": m.how} for m in found])
    written: set[tuple[str, str]] = set()
    keys = [m.line_key for m in found]
    for i in range(0, len(keys), CHUNK):
        written |= {(k, p) for k, p in session.execute(select(
            BankLineRow.key, BankLineRow.payout_id).where(BankLineRow.key.in_(keys[i:i + CHUNK])))}
    return [m for m in found if (m.line_key, m.payout_id) in written]


def _raise(session: Session, lines: list[BankLine], payouts: list[Payout], *,
           covered_through: date) -> None:
    if lines:
        shown = "; ".join(line.label for line in lines[:SHOWN])
        exceptions.raise_exception(
            session, opportunity_id=None, kind=UNMATCHED_LINE, system="bank",
            reason=(f"{_count(len(lines), 'bank line', 'matches', 'match')} no Stripe payout: "
                    f"{shown}"
                    f"{_more(len(lines))}. Check whether each is a payout whose amount differs "
                    "from Stripe's or belongs to something else, then dismiss this."),
            detail="\n".join(f"{line.key}\t{line.label}" for line in lines[:200])[:20_000])
    else:
        exceptions.resolve(session, opportunity_id=None, kinds=[UNMATCHED_LINE],
                           resolution="every bank line is matched to a Stripe payout")
    if payouts:
        shown = "; ".join(f"{p.id} of {format_money(p.amount_minor, p.currency)} due "
                          f"{p.arrival_date}" for p in payouts[:SHOWN])
        exceptions.raise_exception(
            session, opportunity_id=None, kind=MISSING_PAYOUT, system="bank",
            reason=(f"{_count(len(payouts), 'Stripe payout', 'has', 'have')} no line in the bank "
                    f"statements imported through {covered_through}: {shown}"
                    f"{_more(len(payouts))}. Ask the bank or Stripe where the money is."),
            detail="\n".join(f"{p.id}\t{p.amount_minor}\t{p.currency}\t{p.arrival_date}"
                             for p in payouts[:200])[:20_000])
    else:
        exceptions.resolve(session, opportunity_id=None, kinds=[MISSING_PAYOUT],
                           resolution="every Stripe payout has its bank line")


def _count(n: int, noun: str, one: str, many: str) -> str:
    return f"{n} {noun} {one}" if n == 1 else f"{n} {noun}s {many}"


def _more(n: int) -> str:
    return f"; and {n - SHOWN} more" if n > SHOWN else ""
