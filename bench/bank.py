"""Bank matching benchmark: `python -m bench.bank --lines 50000 [--format camt|ofx|bai2] [--json]`.

Writes a statement of `--lines` lines over 90 days, one line in ten a Stripe payout (a third of
them naming the payout's trace number, the rest found by amount and date; amounts drawn from a
small range so many lines share one), the others unrelated credits and debits. Then imports it as
`closebot bank import` does into a fresh SQLite database: parse, store, list the payouts (an
in-memory list standing for Stripe, so the figure is closebot's own time), match, raise
exceptions. Then imports it again. Target: the import ≤ 5 s for 50,000 lines; every payout
matched; the re-import stores and matches nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from sync.cash.bank_lines import parse_statement
from sync.cash.bank_match import match
from sync.engine.bank import import_statement
from sync.money import from_minor
from sync.ports_bank import Payout

FIRST = date(2026, 1, 1)


class _Listed:
    def __init__(self, payouts: list[Payout]) -> None:
        self.items = payouts

    def payouts(self, *, arriving_from: date, arriving_to: date) -> Iterator[list[Payout]]:
        found = [p for p in self.items if arriving_from <= p.arrival_date <= arriving_to]
        for i in range(0, len(found), 100):
            yield found[i:i + 100]

    def payout(self, payout_id: str) -> Payout | None:
        return next((p for p in self.items if p.id == payout_id), None)


def book(lines: int, seed: int) -> tuple[list[tuple[str, date, int, str]], list[Payout]]:
    """(reference, posted on, signed cents, text) per line, and the payouts they should match."""
    rng = random.Random(seed)
    rows, payouts = [], []
    for n in range(lines):
        day = FIRST + timedelta(days=n * 90 // lines)
        if n % 10 == 0:
            cents = rng.randrange(50_000, 60_000)
            trace = f"{n:015d}"
            named = n % 30 == 0
            rows.append((f"L{n}", day + timedelta(days=rng.choice((0, 0, 1, 2))), cents,
                         f"STRIPE {trace}" if named else "STRIPE PAYOUT"))
            payouts.append(Payout(id=f"po_{n:08d}", amount_minor=cents, currency="USD",
                                  arrival_date=day, status="paid", trace_id=trace,
                                  descriptor="STRIPE"))
        else:
            cents = rng.randrange(100, 5_000_000) * rng.choice((1, -1))
            rows.append((f"L{n}", day, cents, f"VENDOR {rng.randrange(1000)}"))
    return rows, payouts


def write(rows: list[tuple[str, date, int, str]], fmt: str) -> bytes:
    if fmt == "ofx":
        body = "".join(
            f"<STMTTRN><TRNTYPE>{'CREDIT' if c > 0 else 'DEBIT'}<DTPOSTED>{d:%Y%m%d}"
            f"<TRNAMT>{from_minor(c, 'USD')}<FITID>{ref}<NAME>{text}</STMTTRN>\n"
            for ref, d, c, text in rows)
        return ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
                "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><SIGNONMSGSRSV1>"
                "<SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260401<LANGUAGE>ENG"
                "</SONRS></SIGNONMSGSRSV1>"
                "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS>"
                "<CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>4000123456<ACCTTYPE>CHECKING"
                f"</BANKACCTFROM><BANKTRANLIST><DTSTART>20260101<DTEND>20260401\n{body}"
                "</BANKTRANLIST><LEDGERBAL><BALAMT>0.00<DTASOF>20260401</LEDGERBAL></STMTRS>"
                "</STMTTRNRS></BANKMSGSRSV1></OFX>\n").encode()
    if fmt == "bai2":
        out = ["01,BANK,CLOSEBOT,260401,0600,1,,,2/"]
        by_day: dict[date, list[tuple[str, int, str]]] = {}
        for ref, d, c, text in rows:
            by_day.setdefault(d, []).append((ref, c, text))
        total = 0
        for d, items in sorted(by_day.items()):
            amount = sum(abs(c) for _, c, _ in items)
            total += amount
            out += [f"02,CLOSEBOT,BANK,1,{d:%y%m%d},,USD,2/", "03,4000123456,USD,,,,/"]
            out += [f"16,{'165' if c > 0 else '475'},{abs(c)},,{ref},,{text}/"
                    for ref, c, text in items]
            out += [f"49,{amount},{len(items) + 2}/", f"98,{amount},1,{len(items) + 4}/"]
        out.append(f"99,{total},{len(by_day)},{len(out) + 1}/")
        return "\n".join(out).encode()
    entries = "".join(
        f"<Ntry><Amt Ccy=\"USD\">{from_minor(abs(c), 'USD')}</Amt>"
        f"<CdtDbtInd>{'CRDT' if c > 0 else 'DBIT'}</CdtDbtInd><BookgDt><Dt>{d}</Dt></BookgDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<AddtlNtryInf>{text}</AddtlNtryInf></Ntry>" for ref, d, c, text in rows)
    return ('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            "<BkToCstmrStmt><Stmt><Acct><Id><Othr><Id>4000123456</Id></Othr></Id></Acct>"
            f"{entries}</Stmt></BkToCstmrStmt></Document>").encode()


def run(lines: int, fmt: str = "camt", seed: int = 7) -> dict[str, Any]:
    rows, payouts = book(lines, seed)
    data = write(rows, fmt)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = make_session_factory(engine)
        started, cpu_started = time.perf_counter(), time.process_time()
        statement = parse_statement(data)
        parsed = time.perf_counter()
        result = import_statement(sessions, statement, _Listed(payouts))
        imported, cpu_imported = time.perf_counter(), time.process_time()
        again = import_statement(sessions, parse_statement(data), _Listed(payouts))
        reimported, cpu_reimported = time.perf_counter(), time.process_time()
        engine.dispose()
    match_started = time.process_time()
    match(payouts, statement.lines)
    match_cpu = time.process_time() - match_started
    return {
        "format": statement.format, "lines": lines, "payouts": len(payouts),
        "file_mb": round(len(data) / 1e6, 2),
        "parse_s": round(parsed - started, 3),
        "import_s": round(imported - started, 3),
        "match_and_store_s": round(imported - parsed, 3),
        "import_cpu_s": round(cpu_imported - cpu_started, 3),
        "match_only_cpu_s": round(match_cpu, 3),
        "reimport_cpu_s": round(cpu_reimported - cpu_imported, 3),
        "matched": len(result.matched), "unmatched_lines": len(result.unmatched_lines),
        "missing_payouts": len(result.missing_payouts),
        "reimport_s": round(reimported - imported, 3),
        "reimport_new_lines": again.new_lines, "reimport_matched": len(again.matched),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--format", choices=("camt", "ofx", "bai2"), default="camt")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.lines, args.format, args.seed)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['format']} statement, {result['lines']:,} lines ({result['file_mb']} MB), "
          f"{result['payouts']:,} Stripe payouts")
    print(f"  import (parse + store + match + exceptions): {result['import_s']} s wall, "
          f"{result['import_cpu_s']} s CPU (parse {result['parse_s']} s; target ≤ 5 s)")
    print(f"  matching alone: {result['match_only_cpu_s']} s CPU")
    print(f"  matched {result['matched']:,} payouts; {result['missing_payouts']} missing; "
          f"{result['unmatched_lines']:,} other lines raised")
    print(f"  re-import: {result['reimport_s']} s wall, {result['reimport_cpu_s']} s CPU, "
          f"{result['reimport_new_lines']} new lines, "
          f"{result['reimport_matched']} matched")
    print(f"  peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
