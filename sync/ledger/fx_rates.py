"""Exchange rates: read from a CSV (the ECB's reference rates, or date,base,quote,rate), stored
in `fx_rates`, and looked up for a day.

A day's rate is the latest one on or before it, at most `STALE_DAYS` old: the ECB publishes on
TARGET working days only, so a Saturday or a bank holiday takes the last published rate, and a
longer gap is a missing rate, never a guess.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from storage.fx_tables import FxRate
from sync.errors import PermanentError
from sync.ledger.errors import LedgerError
from sync.money import is_known_currency

STALE_DAYS = 7
ECB_BASE = "EUR"
SIMPLE_HEADER = ["date", "base", "quote", "rate"]
PLACES = Decimal("1e-12")  # what `fx_rates.rate` keeps
CHUNK = 5_000


class FxFileError(ValueError):
    """A rates file closebot can't read; the message names the line and what is wrong."""


class FxRateMissingError(LedgerError, PermanentError):
    """No usable rate for a currency pair on a day: nothing is posted until one is loaded."""

    def __init__(self, base: str, quote: str, on: date) -> None:
        reason = (f"no {base}/{quote} exchange rate for {on.isoformat()} (nor in the "
                  f"{STALE_DAYS} days before): load rates with closebot fx import, then retry")
        PermanentError.__init__(self, reason, system="erp")


@dataclass(frozen=True)
class Rate:
    on_date: date
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote


def parse(text: str) -> list[Rate]:
    """Every rate in the file, or `FxFileError` for the first broken line (nothing half-read)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise FxFileError("the file is empty")
    header = [c.strip() for c in rows[0]]
    if [c.lower() for c in header] == SIMPLE_HEADER:
        return list(_simple(rows[1:]))
    if header and header[0].lower() == "date":
        return list(_ecb(header, rows[1:]))
    raise FxFileError("line 1: expected the ECB's header (Date,USD,JPY,…) or "
                      "date,base,quote,rate")


def _ecb(header: list[str], rows: list[list[str]]) -> Iterator[Rate]:
    quotes = header[1:]
    for i, code in enumerate(quotes):
        if code and not is_known_currency(code):
            raise FxFileError(f"line 1: column {i + 2} “{code}” is not an ISO 4217 currency")
    for n, row in enumerate(rows, start=2):
        if not any(c.strip() for c in row):
            continue
        on = _day(row[0], n)
        for code, cell in zip(quotes, row[1:], strict=False):
            value = cell.strip()
            # The ECB writes N/A (or nothing) for a currency it didn't quote that day.
            if not code or value in ("", "N/A"):
                continue
            yield Rate(on, ECB_BASE, code.upper(), _rate(value, n, f"{ECB_BASE}/{code}"))


def _simple(rows: list[list[str]]) -> Iterator[Rate]:
    for n, row in enumerate(rows, start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 4:
            raise FxFileError(f"line {n}: expected 4 values (date,base,quote,rate), "
                              f"found {len(row)}")
        day, base, quote, value = (c.strip() for c in row)
        for code in (base, quote):
            if not is_known_currency(code):
                raise FxFileError(f"line {n}: “{code}” is not an ISO 4217 currency")
        pair = f"{base.upper()}/{quote.upper()}"
        yield Rate(_day(day, n), base.upper(), quote.upper(), _rate(value, n, pair))


def _day(value: str, n: int) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FxFileError(f"line {n}: “{value.strip()}” is not a date (YYYY-MM-DD)") from None


def _rate(value: str, n: int, pair: str) -> Decimal:
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise FxFileError(f"line {n}: {pair} rate “{value}” is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise FxFileError(f"line {n}: {pair} rate “{value}” must be a positive number")
    if rate.quantize(PLACES) != rate:
        raise FxFileError(f"line {n}: {pair} rate “{value}” has more than 12 decimals")
    return rate


def shown(rate: Decimal) -> str:
    """A rate as people write it: 1.1 stored as 1.100000000000 reads 1.1."""
    return format(rate.normalize(), "f")


@dataclass(frozen=True)
class Imported:
    added: int
    unchanged: int


def store(session: Session, rates: Iterable[Rate], *, source: str) -> Imported:
    """Add the rates not stored yet; a rate already stored for the same day and pair is left
    as it is. A different rate for a stored day is refused (`FxFileError`): entries may have
    been posted at it, so it is not moved under them."""
    fresh: dict[tuple[str, str, date], Rate] = {}
    unchanged = 0
    batch = list(rates)
    stored = _stored(session, batch)
    for r in batch:
        key = (r.base, r.quote, r.on_date)
        known = stored.get(key, fresh[key].rate if key in fresh else None)
        if known is None:
            fresh[key] = r
        elif known == r.rate:
            unchanged += 1
        else:
            raise FxFileError(
                f"{r.base}/{r.quote} on {r.on_date.isoformat()} is already loaded at "
                f"{shown(known)}, the file says {shown(r.rate)}; rates in use are not replaced")
    values = [{"on_date": r.on_date, "base": r.base, "quote": r.quote, "rate": r.rate,
               "source": source[:255]} for r in fresh.values()]
    for first in range(0, len(values), CHUNK):
        session.execute(insert(FxRate.__table__), values[first:first + CHUNK])
    return Imported(added=len(values), unchanged=unchanged)


def _stored(session: Session, rates: list[Rate]) -> dict[tuple[str, str, date], Decimal]:
    if not rates:
        return {}
    low = min(r.on_date for r in rates)
    high = max(r.on_date for r in rates)
    rows = session.execute(select(FxRate.base, FxRate.quote, FxRate.on_date, FxRate.rate)
                           .where(FxRate.on_date >= low, FxRate.on_date <= high))
    return {(b, q, d): Decimal(r) for b, q, d, r in rows}


def _latest(session: Session, base: str, quote: str, on: date) -> Decimal | None:
    value = session.scalar(
        select(FxRate.rate)
        .where(FxRate.base == base, FxRate.quote == quote, FxRate.on_date <= on,
               FxRate.on_date >= on - timedelta(days=STALE_DAYS))
        .order_by(FxRate.on_date.desc())
        .limit(1)
    )
    return None if value is None else Decimal(value)


def rate_on(session: Session, base: str, quote: str, on: date) -> Decimal:
    """Units of `quote` per unit of `base` on `on`: the pair as stored, its inverse, or across
    a common base (EUR for the ECB's rates: USD per EUR ÷ GBP per EUR = USD per GBP),
    rounded to 12 decimals; `FxRateMissingError` when none is recent enough."""
    if base == quote:
        return Decimal(1)
    direct = _latest(session, base, quote, on)
    if direct is not None:
        return direct
    inverse = _latest(session, quote, base, on)
    if inverse is not None:
        return (Decimal(1) / inverse).quantize(PLACES)
    bases = session.scalars(select(FxRate.base).where(FxRate.quote == base).distinct())
    for common in list(bases):
        to_base = _latest(session, common, base, on)
        to_quote = _latest(session, common, quote, on)
        if to_base is not None and to_quote is not None:
            return (to_quote / to_base).quantize(PLACES)
    raise FxRateMissingError(base, quote, on)


def summary(session: Session) -> list[tuple[str, str, date, date, int]]:
    """Per stored pair: base, quote, first day, last day, how many days."""
    return [(b, q, first, last, int(n)) for b, q, first, last, n in session.execute(
        select(FxRate.base, FxRate.quote, func.min(FxRate.on_date), func.max(FxRate.on_date),
               func.count())
        .group_by(FxRate.base, FxRate.quote).order_by(FxRate.base, FxRate.quote))]


def reader(sessions: sessionmaker[Session], functional: str
           ) -> Callable[[str, date], Decimal | None]:
    """`rate_on` into `functional` as an ERP connector asks for it: None for the functional
    currency itself (nothing to convert), `FxRateMissingError` when no rate is recent enough."""

    def rate(currency: str, on: date) -> Decimal | None:
        if currency.upper() == functional:
            return None
        with sessions() as session:
            return rate_on(session, currency.upper(), functional, on)

    return rate
