"""The money audit on a void after a write-off, the books of
`test_subledger_void_after_write_off.py`: the seed deal's $120,000 invoice, P1 closed (30,000
recognized: services 20,000, subscription 10,000), written off on P2's 11th day, voided on its
16th.

Reversed as closebot books it (`closebot-reversal-<invoice>:void`: Dr 4100 20,000, Dr 4000
10,000 / Cr Bad Debt Expense 30,000), every ERP holds revenue 0 and bad debt 0, as the
subledger does, and the audit finds only what it finds after any void: the deal booked with
nothing billed against it (contract value, 120,000).

Planted (`planted.void_reversal_not_posted`): the reversal never reaches NetSuite or Sage
Intacct, which keep the write-off's revenue 30,000 and bad debt 30,000 while the subledger
reversed 30,000 of revenue. The audit reports the void's reversal 30,000 short in the ERP. The
same plant on a void after the close alone (no write-off) leaves the ERP with revenue 30,000
and Deferred Revenue 30,000 debit; reported the same way.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.intake_guards import erp_label
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from sync.ports_books import REVERSAL
from tests.integration import planted
from tests.integration.books import (
    K,
    advance,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    on_ledger,
    stripe_client,
)
from tests.integration.test_books_void import _audit_after_void
from tests.integration.test_subledger_void_after_close import (
    _books,
    _closed_p1_then,
    _written_off_after_p1,
)


def _void_after_write_off(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
                          ) -> tuple[str, str]:
    """The deal and its invoice, written off on P2's 11th day and voided on its 16th."""
    _, opp, invoice = _written_off_after_p1(stack, rt, sessions)
    advance(stack, days=5)
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    return opp, invoice


def test_a_void_after_a_write_off_reversed_passes_the_audit(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    opp, _ = _void_after_write_off(books_stack, books_rt, sessions)
    assert _books(books_stack, books_rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 0, "Bad debt": 0}
    _audit_after_void(books_rt)


def test_a_void_after_a_write_off_not_reversed_in_the_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if on_ledger(books_stack):
        pytest.skip("the ledger books the reversal in the void's own entry")
    planted.void_reversal_not_posted(monkeypatch)
    opp, invoice = _void_after_write_off(books_stack, books_rt, sessions)
    assert _books(books_stack, books_rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 30 * K, "Bad debt": 30 * K}

    report = run_audit(books_rt, require_alerts=False)
    assert sorted((v.kind, v.difference_minor) for v in report.failing) == [
        ("contract_value", 120 * K), ("void_reversal_mismatch", -30 * K)], report.problems()
    (missing,) = [v for v in report.failing if v.kind == "void_reversal_mismatch"]
    assert missing.opportunity_id == opp
    erp = erp_label(books_rt.erp.name)
    assert [(s.system, s.amount_minor, s.record_id) for s in missing.sides] == [
        (erp, 0, f"{REVERSAL}{invoice}:void"), ("closebot", 30 * K, invoice)]
    assert invoice in missing.reason
    assert "USD 30,000.00" in missing.reason and "bad debt" in missing.reason


def test_a_void_after_a_close_not_reversed_in_the_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if on_ledger(books_stack):
        pytest.skip("the ledger books the reversal in the void's own entry")
    planted.void_reversal_not_posted(monkeypatch)
    _, opp, invoice = _closed_p1_then(books_stack, books_rt, sessions)
    stripe_client(books_stack).v1.invoices.void_invoice(invoice)
    sync_once(books_rt)
    assert _books(books_stack, books_rt, sessions, opp) == {
        "AR": 0, "Deferred": -30 * K, "Revenue": 30 * K, "Bad debt": 0}

    report = run_audit(books_rt, require_alerts=False)
    assert sorted((v.kind, v.difference_minor) for v in report.failing) == [
        ("contract_value", 120 * K), ("void_reversal_mismatch", -30 * K)], report.problems()
    (missing,) = [v for v in report.failing if v.kind == "void_reversal_mismatch"]
    assert missing.opportunity_id == opp
    assert f"{invoice} was voided: the subledger reversed USD 30,000.00" in missing.reason
