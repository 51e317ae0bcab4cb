"""The one place journal entries are written: balanced, in one currency, append-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from storage.ledger import LedgerJournalEntry, LedgerJournalLine
from sync.ledger import fx, periods
from sync.ledger.errors import UnbalancedEntryError

PREFIXES = {
    "ledger_customers": "CUST",
    "ledger_sales_orders": "SO",
    "ledger_invoices": "INV",
    "ledger_payments": "PMT",
    "ledger_credit_memos": "CM",
    "ledger_invoice_closures": "CL",
    "ledger_journal_entries": "JE",
}


@dataclass(frozen=True)
class Leg:
    """One side of an entry: a positive amount on exactly one of debit or credit."""

    account: str
    debit: int = 0
    credit: int = 0


def is_minor(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def next_number(session: Session, table: str) -> tuple[int, str]:
    """Reserve the next id of `table` and the human number derived from it.

    Knowing the id before the INSERT keeps the number NOT NULL and the journal free of UPDATEs.
    PostgreSQL hands out ids from the table's sequence (gaps after rollbacks are normal); SQLite
    takes max + 1, safe because closebot's SQLite transactions begin IMMEDIATE (one writer).
    """
    return next_numbers(session, table, 1)[0]


def next_numbers(session: Session, table: str, count: int) -> list[tuple[int, str]]:
    """`next_number` for `count` records at once (a month-end close posts thousands)."""
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": count}))
    else:
        first = (session.scalar(text(f"SELECT MAX(id) FROM {table}")) or 0) + 1
        ids = list(range(first, first + count))
    return [(i, f"{PREFIXES[table]}-{i:06d}") for i in ids]


def next_ids(session: Session, table: str, count: int) -> list[int]:
    """`count` ids of `table` at once, as `next_number` reserves one."""
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": count}))
    first = (session.scalar(text(f"SELECT MAX(id) FROM {table}")) or 0) + 1
    return list(range(first, first + count))


@dataclass(frozen=True)
class EntryIn:
    external_id: str
    memo: str
    posted_on: date
    currency: str
    source_type: str
    source_ref: str
    legs: Sequence[Leg]
    entity: str | None = None


def post_entries(session: Session, entries: Sequence[EntryIn]) -> int:
    """Write many balanced entries with two bulk INSERTs (lines first, as `post_entry` does);
    the same checks, in Python and in the database, hold for each."""
    if not entries:
        return 0
    totals = [check_balanced(e.legs) for e in entries]
    ids = next_ids(session, LedgerJournalEntry.__tablename__, len(entries))
    prefix = PREFIXES[LedgerJournalEntry.__tablename__]
    session.execute(insert(LedgerJournalLine.__table__), [  # Core: no ORM bookkeeping per row
        {"entry_id": entry_id, "line_no": i, "account_code": leg.account,
         "debit_minor": leg.debit, "credit_minor": leg.credit, "currency": e.currency}
        for entry_id, e in zip(ids, entries, strict=True)
        for i, leg in enumerate(e.legs, start=1)
    ])
    session.execute(insert(LedgerJournalEntry.__table__), [
        {"id": entry_id, "number": f"{prefix}-{entry_id:06d}", "external_id": e.external_id,
         "memo": e.memo[:500], "posted_on": e.posted_on, "currency": e.currency,
         "total_minor": total, "source_type": e.source_type, "source_ref": e.source_ref,
         "entity": e.entity}
        for entry_id, e, total in zip(ids, entries, totals, strict=True)
    ])
    functional = fx.functional_currency(session)
    if functional is not None:
        rows = []
        for entry_id, e in zip(ids, entries, strict=True):
            legs = fx.at_day_rate(session, e.legs, e.currency, e.posted_on) or []
            rows += fx.functional_rows(entry_id, legs, functional)
        if rows:
            session.execute(insert(fx.LedgerFunctionalLine.__table__), rows)
    return len(entries)


def check_balanced(legs: Sequence[Leg]) -> int:
    """The entry's total; refuses anything that isn't a balanced set of positive integer legs."""
    if len(legs) < 2:
        raise UnbalancedEntryError("an entry needs at least two lines")
    for leg in legs:
        if not (is_minor(leg.debit) and is_minor(leg.credit)):
            raise UnbalancedEntryError(f"amounts must be integer minor units: {leg!r}")
        if not ((leg.debit > 0 and leg.credit == 0) or (leg.debit == 0 and leg.credit > 0)):
            raise UnbalancedEntryError(f"a line is a positive debit or a positive credit: {leg!r}")
    debits = sum(leg.debit for leg in legs)
    credits = sum(leg.credit for leg in legs)
    if debits != credits:
        raise UnbalancedEntryError(f"debits {debits} != credits {credits}")
    return debits


def post_entry(
    session: Session,
    *,
    external_id: str,
    memo: str,
    posted_on: date,
    currency: str,
    source_type: str,
    source_ref: str,
    legs: Sequence[Leg],
    reverses_id: int | None = None,
    functional: Sequence[fx.FunctionalLeg] | None = None,
    entity: str | None = None,
) -> LedgerJournalEntry:
    """Write one balanced entry and its lines in the caller's transaction.

    Lines go in before their entry: the SQLite triggers check the balance when the entry row
    arrives (see `storage.ledger.ledger_ddl`); PostgreSQL checks again at commit. With a
    functional currency configured the entry also carries its functional lines: `functional`
    when the caller worked them out (a payment, a credit on an invoice), else the legs at the
    rate of the transaction's own day (before any move past a closed period).
    """
    total = check_balanced(legs)
    if functional is None:
        functional = fx.at_day_rate(session, legs, currency, posted_on)
    # Late items land in the first open day; the memo keeps the day they belonged to.
    posted_on, note = periods.posting_day(session, posted_on)
    memo = f"{memo}{note}"
    entry_id, number = next_number(session, LedgerJournalEntry.__tablename__)
    session.add_all(
        LedgerJournalLine(
            entry_id=entry_id,
            line_no=i,
            account_code=leg.account,
            debit_minor=leg.debit,
            credit_minor=leg.credit,
            currency=currency,
        )
        for i, leg in enumerate(legs, start=1)
    )
    session.flush()
    entry = LedgerJournalEntry(
        id=entry_id,
        number=number,
        external_id=external_id,
        memo=memo[:500],
        posted_on=posted_on,
        currency=currency,
        total_minor=total,
        source_type=source_type,
        source_ref=source_ref,
        reverses_id=reverses_id,
        entity=entity,
    )
    session.add(entry)
    session.flush()
    if functional is not None:
        fx.write(session, entry_id, functional, str(fx.functional_currency(session)))
    return entry


def reverse_entry(
    session: Session, entry: LedgerJournalEntry, *, external_id: str, posted_on: date, memo: str
) -> LedgerJournalEntry:
    """A correction: the same lines with debit and credit swapped, linked to the original."""
    lines = session.scalars(
        select(LedgerJournalLine)
        .where(LedgerJournalLine.entry_id == entry.id)
        .order_by(LedgerJournalLine.line_no)
    )
    legs = [Leg(ln.account_code, debit=ln.credit_minor, credit=ln.debit_minor) for ln in lines]
    # The mirror in the functional currency too, at the original's rates: a correction undoes
    # the entry as it was booked.
    mirrored = [fx.FunctionalLeg(ln.account_code, ln.credit_minor, ln.debit_minor, ln.rate)
                for ln in fx.functional_lines(session, entry.id)
                if ln.currency == fx.functional_currency(session)]
    return post_entry(
        session,
        external_id=external_id,
        memo=memo,
        posted_on=posted_on,
        currency=entry.currency,
        source_type="reversal",
        source_ref=entry.number,
        legs=legs,
        reverses_id=entry.id,
        functional=mirrored or None,
    )

