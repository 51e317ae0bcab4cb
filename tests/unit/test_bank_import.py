"""Importing the worked example statement: matched to the cent, the rest raised as exceptions,
and a re-import (in the same or another format) that matches nothing twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.bank_tables import BankLineRow
from storage.tables import SyncException
from sync.cash.bank_lines import BankFileError, parse_statement
from sync.engine.bank import MISSING_PAYOUT, UNMATCHED_LINE, import_statement
from tests.unit.bank_example import (
    EXPECTED,
    FILES,
    FORMATS,
    MATCHED_MINOR,
    MISSING_MINOR,
    PAYOUTS,
    ListedPayouts,
)


def _read(name: str):
    return parse_statement((FILES / name).read_bytes())


def _open_exceptions(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {e.kind: e.reason for e in session.scalars(
            select(SyncException).where(SyncException.status == "open"))}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_worked_example_import(sessions: sessionmaker[Session], name: str) -> None:
    result = import_statement(sessions, _read(name), ListedPayouts(PAYOUTS))
    assert (result.lines, result.new_lines) == (4, 4)
    assert {m.payout_id: m.line_key for m in result.matched} == EXPECTED
    with sessions() as session:
        rows = {r.key: r for r in session.scalars(select(BankLineRow))}
    # Tie-out: the bank credits matched = the Stripe payouts matched = 5,821.20.
    assert sum(r.amount_minor for r in rows.values() if r.payout_id) == MATCHED_MINOR
    assert sum(p.amount_minor for p in PAYOUTS if p.id in EXPECTED) == MATCHED_MINOR
    assert sum(p.amount_minor for p in result.missing_payouts) == MISSING_MINOR
    assert [line.amount_minor for line in result.unmatched_lines] == [-450_000]
    raised = _open_exceptions(sessions)
    assert raised[UNMATCHED_LINE] == (
        "1 bank line matches no Stripe payout: USD -4,500.00 on 2026-03-06 “OFFICE RENT”. "
        "Check whether each is a payout whose amount differs from Stripe's or belongs to "
        "something else, then dismiss this.")
    assert raised[MISSING_PAYOUT] == (
        "1 Stripe payout has no line in the bank statements imported through 2026-03-09: "
        "po_D of USD 800.00 due 2026-03-04. Ask the bank or Stripe where the money is.")


def test_reimport_in_any_format_matches_nothing_twice(sessions: sessionmaker[Session]) -> None:
    source = ListedPayouts(PAYOUTS)
    import_statement(sessions, _read("statement.ofx"), source)
    for name in ("statement.ofx", "statement.camt053.xml", "statement.bai"):
        again = import_statement(sessions, _read(name), source)
        assert (again.new_lines, again.matched) == (0, [])
    with sessions() as session:
        rows = list(session.scalars(select(BankLineRow)))
        exceptions = list(session.scalars(select(SyncException)))
    assert len(rows) == 4 and sorted(r.payout_id for r in rows if r.payout_id) == [
        "po_A", "po_B", "po_C"]
    assert sorted(e.kind for e in exceptions) == sorted([MISSING_PAYOUT, UNMATCHED_LINE])


def test_a_late_payout_line_in_the_next_statement_resolves_its_exception(
        sessions: sessionmaker[Session]) -> None:
    source = ListedPayouts(PAYOUTS)
    import_statement(sessions, _read("statement.ofx"), source)
    late = (FILES / "statement.ofx").read_bytes().replace(b"<TRNAMT>-4500.00", b"<TRNAMT>800.00")
    late = late.replace(b"<FITID>202603060001<NAME>OFFICE RENT", b"<FITID>202603070009<NAME>PO-D")
    result = import_statement(sessions, parse_statement(late), source)
    assert [(m.payout_id, m.line_key) for m in result.matched] == [
        ("po_D", "4000123456:202603070009")]
    assert result.missing_payouts == []
    # The rent line of the first file is still unmatched and still raised.
    assert set(_open_exceptions(sessions)) == {UNMATCHED_LINE}


def test_a_broken_file_imports_nothing(sessions: sessionmaker[Session]) -> None:
    data = (FILES / "statement.ofx").read_bytes().replace(b"<DTPOSTED>20260309", b"<DTPOSTED>x")
    with pytest.raises(BankFileError, match=r"OFX transaction 4 .* has no valid posting date"):
        import_statement(sessions, parse_statement(data), ListedPayouts(PAYOUTS))
    with sessions() as session:
        assert session.scalars(select(BankLineRow)).all() == []
