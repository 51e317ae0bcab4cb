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

TAGS = ("Stmt", "Acct", "Id", "IBAN", "Othr", "Ntry", "Amt", "CdtDbtInd", "BookgDt", "ValDt", "Dt",
        "NtryDtls", "TxDtls", "Refs", "EndToEndId", "RmtInf", "Ustrd", "AddtlNtryInf",
        "AcctSvcrRef", "NtryRef")


def read(data: bytes) -> list[RawLine]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise BankFileError(f"the camt.053 file is not well-formed XML: {error}") from None
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if "camt.053" not in ns:
        raise BankFileError("the XML file is not an ISO 20022 camt.053 statement")

    tag = {name: f"{{{ns}}}{name}" for name in TAGS}

    def get(node: ElementTree.Element, *path: str) -> str:
        # Child by child rather than an XPath per field: a 50,000-entry statement is read
        # several times faster.
        for name in path:
            found = node.find(tag[name])
            if found is None:
                return ""
            node = found
        return (node.text or "").strip()

    raws = []
    n = 0
    for stmt in root.iter(tag["Stmt"]):
        account = get(stmt, "Acct", "Id", "IBAN") or get(stmt, "Acct", "Id", "Othr", "Id")
        for entry in stmt.iterfind(tag["Ntry"]):
            n += 1
            where = f"camt.053 entry {n}"
            amt = entry.find(tag["Amt"])
            indicator = get(entry, "CdtDbtInd")
            day = get(entry, "BookgDt", "Dt") or get(entry, "ValDt", "Dt")
            if amt is None or not (amt.text or "").strip() or indicator not in ("CRDT", "DBIT"):
                raise BankFileError(f"{where} has no amount or no credit/debit indicator")
            try:
                posted = date.fromisoformat(day[:10])
            except ValueError:
                raise BankFileError(f"{where} has no booking date (“{day}”)") from None
            sign = "-" if indicator == "DBIT" else ""
            details = entry.find(tag["NtryDtls"])
            tx = details.find(tag["TxDtls"]) if details is not None else None
            words = [get(tx, "Refs", "EndToEndId"), get(tx, "RmtInf", "Ustrd")] \
                if tx is not None else []
            words.append(get(entry, "AddtlNtryInf"))
            raws.append(RawLine(
                where=where, account=account, posted_on=posted,
                amount=sign + (amt.text or "").strip(), currency=amt.get("Ccy", ""),
                reference=get(entry, "AcctSvcrRef") or get(entry, "NtryRef"),
                text=" ".join(w for w in words if w)))
    return raws
