"""ISO 20022 camt.053 (bank-to-customer statement), read with the standard library's XML parser.

Each `Ntry` is one line: `Amt` with its `Ccy`, `CdtDbtInd` (CRDT / DBIT), `BookgDt` (or
`ValDt`), the servicer's reference `AcctSvcrRef` (or `NtryRef`) as its ID, and the end-to-end ID
and remittance text where a payout's trace ID shows. Any camt.053 version is read: the
namespace is taken from the document, not assumed.
"""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

from sync.cash.bank_lines import BankFileError, RawLine


def read(data: bytes) -> list[RawLine]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise BankFileError(f"the camt.053 file is not well-formed XML: {error}") from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if "camt.053" not in ns:
        raise BankFileError("the XML file is not an ISO 20022 camt.053 statement")

    def q(path: str) -> str:
        return "/".join(f"{{{ns}}}{part}" for part in path.split("/"))

    raws = []
    n = 0
    for stmt in root.iter(q("Stmt")):
        account = (_text(stmt, q("Acct/Id/IBAN")) or _text(stmt, q("Acct/Id/Othr/Id")))
        for entry in stmt.findall(q("Ntry")):
            n += 1
            where = f"camt.053 entry {n}"
            amt = entry.find(q("Amt"))
            indicator = _text(entry, q("CdtDbtInd"))
            day = _text(entry, q("BookgDt/Dt")) or _text(entry, q("ValDt/Dt"))
            if amt is None or not (amt.text or "").strip() or indicator not in ("CRDT", "DBIT"):
                raise BankFileError(f"{where} has no amount or no credit/debit indicator")
            try:
                posted = date.fromisoformat((day or "")[:10])
            except ValueError:
                raise BankFileError(f"{where} has no booking date (“{day}”)") from None
            sign = "-" if indicator == "DBIT" else ""
            words = [_text(entry, q("NtryDtls/TxDtls/Refs/EndToEndId")),
                     _text(entry, q("NtryDtls/TxDtls/RmtInf/Ustrd")),
                     _text(entry, q("AddtlNtryInf"))]
            raws.append(RawLine(
                where=where, account=account, posted_on=posted,
                amount=sign + (amt.text or "").strip(), currency=amt.get("Ccy", ""),
                reference=_text(entry, q("AcctSvcrRef")) or _text(entry, q("NtryRef")),
                text=" ".join(w for w in words if w)))
    return raws


def _text(node: ElementTree.Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""
