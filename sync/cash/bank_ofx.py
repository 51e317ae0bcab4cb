"""OFX bank statements (1.x SGML and 2.x XML), read with ofxtools' parser.

ofxtools turns the file (headers, SGML with unclosed elements, or XML) into an element tree;
the statement's transactions are read from that tree directly. Its typed model conversion is
skipped: it costs about 1.6 ms per transaction (80 s for a 50,000-line statement) and checks
nothing a bank line needs beyond what is checked here. A transaction carries the bank's unique
FITID (unique per account, OFX 2.2 §3.2.1), the posting date, a signed amount, and the payee /
memo where a payout's trace number shows.
"""

from __future__ import annotations

import io
from datetime import date
from xml.etree.ElementTree import Element

from ofxtools.Parser import OFXTree, ParseError, TreeBuilder

from sync.cash.bank_lines import BankFileError, RawLine


def read(data: bytes) -> list[RawLine]:
    # The SGML parser closes what a cut-off file leaves open: an OFX file that stops before
    # its closing tag would otherwise import the lines it got as far as.
    if not data.rstrip().upper().endswith(b"</OFX>"):
        raise BankFileError("the OFX file is cut short: it does not end with </OFX>")
    try:
        root = OFXTree().parse(io.BytesIO(data), parser=_Builder())
    except Exception as error:  # ofxtools raises several unrelated types for one bad file
        raise BankFileError(f"the OFX file is damaged: {_first_line(error)}") from None
    raws = []
    n = 0
    for statement in root.iter("STMTRS"):
        account = _text(statement, "BANKACCTFROM/ACCTID")
        currency = _text(statement, "CURDEF")
        for trn in statement.iterfind("BANKTRANLIST/STMTTRN"):
            n += 1
            # One pass over the transaction's elements instead of a path search per field.
            fields = {child.tag: (child.text or "").strip() for child in trn}
            fitid = fields.get("FITID", "")
            where = f"OFX transaction {n} (FITID {fitid or 'missing'})"
            if not fitid:
                raise BankFileError(f"{where} has no FITID, the bank's ID for the line")
            text = " ".join(t for t in (fields.get("NAME"), fields.get("MEMO"),
                                        fields.get("REFNUM")) if t)
            own = _text(trn, "CURRENCY/CURSYM") if "CURRENCY" in fields else ""
            raws.append(RawLine(where=where, account=account,
                                posted_on=_day(fields.get("DTPOSTED", ""), where),
                                amount=_amount(fields.get("TRNAMT", ""), where),
                                currency=own or currency, reference=fitid, text=text))
    return raws


class _Builder(TreeBuilder):  # type: ignore[misc]
    """ofxtools' SGML tree builder without its per-tag debug logging, which formats three
    messages per element whether or not anyone listens (half the parse of a large file).
    The same regex and the same checks: text after a tag, text after an end tag."""

    def feed(self, data: str) -> None:
        for match in self.regex.finditer(data):
            tag, cdata, raw, closetag, tail = match.group("tag", "cdata", "text", "closetag",
                                                          "tail")
            if tail and tail.strip():
                raise ParseError(f"Tail text '{tail.strip()}' - position=[{match.start()}:"
                                 f"{match.end()}]")
            text = cdata or (raw.strip() if raw else "")
            if tag.startswith("/"):
                if text:
                    raise ParseError(f"Tail text '{text}' after <{tag}> - position=["
                                     f"{match.start()}:{match.end()}]")
                self.end(tag[1:])
                continue
            self.start(tag, {})
            if text:  # a data element: OFX 1.x may leave it unclosed
                self.data(text)
                self.end(tag)
            elif closetag:
                self.end(tag)


def _text(node: Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _day(raw: str, where: str) -> date:
    try:  # YYYYMMDD[HHMMSS[.XXX]][[gmt offset:tz]]: the bank's own date is the first 8 digits
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        raise BankFileError(f"{where} has no valid posting date (“{raw}”)") from None


def _amount(raw: str, where: str) -> str:
    # OFX allows a comma as the decimal separator (OFX 2.2 §3.2.9.1).
    value = raw.replace(",", ".") if "." not in raw else raw
    if not value or not value.lstrip("+-").replace(".", "", 1).isdigit():
        raise BankFileError(f"{where}: the amount “{raw}” is not a valid amount")
    return value


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
