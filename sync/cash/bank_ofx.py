"""OFX bank statements (1.x SGML and 2.x XML), read with ofxtools.

A statement's transactions carry the bank's unique FITID (unique per account, OFX 2.2 §3.2.1),
the posting date, a signed amount and the payee / memo where a payout's trace ID shows.
"""

from __future__ import annotations

import io

from ofxtools.Parser import OFXTree

from sync.cash.bank_lines import BankFileError, RawLine


def read(data: bytes) -> list[RawLine]:
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as error:  # ofxtools raises several unrelated types for one bad file
        raise BankFileError(f"the OFX file is damaged: {_first_line(error)}") from None
    raws = []
    for statement in ofx.statements:
        account = str(getattr(statement.account, "acctid", "") or "")
        currency = str(statement.curdef or "")
        for n, trn in enumerate(statement.banktranlist or [], start=1):
            where = f"OFX transaction {n} (FITID {trn.fitid})"
            if trn.dtposted is None or trn.trnamt is None:
                raise BankFileError(f"{where} has no date or no amount")
            text = " ".join(str(part) for part in (trn.name, trn.memo, trn.refnum) if part)
            raws.append(RawLine(where=where, account=account, posted_on=trn.dtposted.date(),
                                amount=str(trn.trnamt), currency=str(trn.currency or currency),
                                reference=str(trn.fitid or ""), text=text))
    return raws


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
