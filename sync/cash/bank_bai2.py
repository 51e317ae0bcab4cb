"""BAI2 cash-management files, read with the `bai2` package.

BAI2 amounts are in the currency's minor units with no decimal point, and a detail record has no
date of its own: it is posted on its group's as-of date. The bank reference, when the bank
fills it, is the line's ID; the customer reference and text carry a payout's trace ID.
"""

from __future__ import annotations

from bai2 import bai2

from sync.cash.bank_lines import BankFileError, RawLine
from sync.money import MoneyError, from_minor


def read(data: bytes) -> list[RawLine]:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise BankFileError("the BAI2 file holds characters that are not plain text") from None
    records = [line.strip() for line in text.splitlines() if line.strip()]
    # The parser loops forever on a file that stops before its file trailer: refuse it first.
    if not records or not records[-1].startswith("99,"):
        raise BankFileError("the BAI2 file is cut short: it does not end with its file "
                            "trailer (a 99 record)")
    try:
        parsed = bai2.parse_from_lines(iter(records), check_integrity=True)
    except Exception as error:  # the package raises its own and plain ValueErrors alike
        raise BankFileError(f"the BAI2 file is damaged: {_first_line(error)}") from None
    raws = []
    n = 0
    for group in parsed.children:
        header = group.header
        for account in group.children:
            number = str(account.header.customer_account_number or "")
            currency = str(account.header.currency or header.currency or "USD")
            for detail in account.children:
                n += 1
                where = f"BAI2 transaction {n} (account {number})"
                sign = -1 if detail.type_code.transaction.value == "debit" else 1
                try:
                    amount = from_minor(sign * int(detail.amount or 0), currency)
                except MoneyError:
                    raise BankFileError(f"{where}: unknown currency “{currency}”") from None
                if header.as_of_date is None:
                    raise BankFileError(f"{where} belongs to a group with no as-of date")
                words = (detail.customer_reference, detail.text)
                raws.append(RawLine(
                    where=where, account=number, posted_on=header.as_of_date,
                    amount=str(amount), currency=currency,
                    reference=str(detail.bank_reference or ""),
                    text=" ".join(str(w) for w in words if w)))
    return raws


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
