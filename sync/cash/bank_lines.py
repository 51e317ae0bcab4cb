"""A bank statement as closebot reads it, whatever its format: lines with a stable key.

The key is what makes a re-import harmless: the bank's own ID for the line when the format has
one (OFX FITID, camt.053 AcctSvcrRef / NtryRef, BAI2 bank reference), otherwise a digest of the
line's content and its rank among identical lines of the same file, so the same file read twice
yields the same keys and two genuinely equal lines stay two lines.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sync.money import MoneyError, format_money, to_minor


class BankFileError(ValueError):
    """A statement closebot cannot read; the message says where and what, for the CLI's one line."""


class BankLine(NamedTuple):  # a tuple: 50,000 of them are built per import

    key: str
    account: str
    posted_on: date
    amount_minor: int  # credits positive, debits negative
    currency: str
    reference: str  # the bank's ID for the line, or "" when the format gives none
    text: str  # payee, memo, remittance information: where a payout's trace ID may appear

    @property
    def label(self) -> str:
        return (f"{format_money(self.amount_minor, self.currency)} on {self.posted_on} "
                f"“{self.text or self.reference}”")


@dataclass(frozen=True)
class Statement:
    format: str
    lines: list[BankLine]

    @property
    def starts(self) -> date | None:
        return min((line.posted_on for line in self.lines), default=None)

    @property
    def ends(self) -> date | None:
        return max((line.posted_on for line in self.lines), default=None)


@dataclass(frozen=True)
class RawLine:
    """A line as a format parser found it, before keys and minor units."""

    where: str  # "transaction 3", "line 17": how the error message points at it
    account: str
    posted_on: date
    amount: str  # decimal text, signed
    currency: str
    reference: str
    text: str


def keyed(fmt: str, raws: list[RawLine]) -> Statement:
    seen: Counter[tuple[object, ...]] = Counter()
    lines = []
    for raw in raws:
        currency = raw.currency.upper()
        try:
            minor = to_minor(raw.amount, currency)
        except (MoneyError, ArithmeticError, ValueError):
            raise BankFileError(f"{raw.where}: the amount “{raw.amount}” in “{raw.currency}” "
                                "is not a valid amount") from None
        content = (raw.account, raw.posted_on.isoformat(), minor, currency, raw.reference,
                   raw.text)
        seen[content] += 1
        if raw.reference:
            key = f"{raw.account}:{raw.reference}"
        else:
            digest = hashlib.sha256(repr((content, seen[content])).encode()).hexdigest()[:24]
            key = f"{raw.account}:#{digest}"
        lines.append(BankLine(key=key[:120], account=raw.account, posted_on=raw.posted_on,
                              amount_minor=minor, currency=currency, reference=raw.reference,
                              text=raw.text))
    if len({line.key for line in lines}) != len(lines):
        dup = next(k for k, n in Counter(line.key for line in lines).items() if n > 1)
        raise BankFileError(f"two lines carry the same bank reference ({dup}): the file is "
                            "damaged or repeats a transaction")
    return Statement(format=fmt, lines=lines)


def parse_statement(data: bytes) -> Statement:
    """Read OFX, BAI2 or camt.053 by looking at the file's first bytes, never its name."""
    from sync.cash import bank_bai2, bank_camt, bank_ofx

    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:400]
    read: Callable[[bytes], list[RawLine]]
    if b"OFXHEADER" in head or b"<?OFX" in head or b"<OFX>" in head.upper():
        fmt, read = "OFX", bank_ofx.read
    elif head.startswith(b"<?xml") or head.startswith(b"<Document"):
        fmt, read = "camt.053", bank_camt.read
    elif head.startswith(b"01,"):
        fmt, read = "BAI2", bank_bai2.read
    else:
        raise BankFileError("the file is not a bank statement closebot reads: expected OFX, "
                            "BAI2 or ISO 20022 camt.053")
    raws = read(data)
    if not raws:
        raise BankFileError(f"the {fmt} statement holds no transactions")
    return keyed(fmt, raws)
