"""Worked examples: a credit approved in Slack comes out of deferred revenue on every ERP.

The seed deal ($120,000 invoice: $20,000 implementation recognized on day 1, $100,000
subscription as 10 x $10,000 a month), as in `test_books_credit.py`. On the embedded ledger the
credit is Dr Deferred Revenue for what the invoice's obligations had not earned on its date and
Dr Credits & Allowances beyond it; on NetSuite the credit memo says the same with its lines: the
invoice's own items for the unearned part, a "Credit" line beyond it
(`sync/connectors/netsuite_closures.py`); on Sage Intacct the AR adjustment's lines say it by GL
account: deferred revenue (2100) for the unearned part, Credits & Allowances (4900) beyond it.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    dollars,
    ia_lines,
    ia_records,
    mirrored,
    ns_lines,
    ns_records,
    on_ledger,
    recognize,
    replay_post,
    today,
)
from tests.integration.erp_books import IA_CREDIT, erp_books, erp_credits
from tests.integration.test_books_credit import _approve_credit, _billed, _books


def _ns_memo(stack: SandboxStack) -> tuple[list[tuple[str, int]], int]:
    """The NetSuite credit memo of the one Stripe credit note: its item lines, and what is
    left open on the invoice it applies to."""
    (note,) = stack.stripe.objects("credit_note")
    (memo,) = ns_records(stack, "creditMemo", note["id"])
    (invoice,) = ns_records(stack, "invoice")
    return sorted(ns_lines(memo)), dollars(invoice["amountRemaining"])


@pytest.mark.parametrize(("months", "amount", "deferred", "contra"), [
    (0, 10 * K, 10 * K, 0),       # day 10: nothing of the subscription earned yet
    (3, 10 * K, 10 * K, 0),       # 3 months earned, 70,000 still deferred
    (3, 75 * K, 70 * K, 5 * K),   # beyond what is deferred: 5,000 is contra revenue
])
def test_a_credit_comes_out_of_deferred_revenue_on_every_erp(
    books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
    sessions: sessionmaker[Session],
    months: int, amount: int, deferred: int, contra: int,
) -> None:
    """The seed deal's $120,000 invoice; a credit after `months` months (+10 days).

                              ledger                 NetSuite credit memo         Sage adjustment
        part not yet earned   Dr Deferred `deferred`  "Subscription" `deferred`    2100 -`deferred`
        beyond it             Dr Contra   `contra`    "Credit" line `contra`       4900 -`contra`
        the credit            Cr AR       `amount`    applied to the invoice       applied

    Then on every ERP AR = 120,000 - amount, revenue booked 120,000 - deferred, contra revenue
    `contra`, and the audit is clean. On the ledger after the
    term: deferred 0, recognized 120,000 - amount + contra, contra `contra`.
    """
    stack, rt = books_stack, books_rt
    start = today(stack)
    opp, invoice = _billed(stack, rt, sessions)
    advance_months(stack, start, months)
    advance(stack, days=10)
    recognize(rt)
    _approve_credit(rt, opp, invoice, amount)

    assert [n["amount"] for n in stack.stripe.objects("credit_note")] == [amount]
    (mirror,) = mirrored(sessions, opp)
    assert mirror.amount_remaining_minor == 120 * K - amount
    assert erp_books(stack, sessions) == {
        "AR": 120 * K - amount, "Revenue": 120 * K - deferred, "Contra": contra}
    if stack.netsuite is not None:
        lines = [("Subscription", deferred)] + ([("Credit", contra)] if contra else [])
        assert _ns_memo(stack) == (sorted(lines), 120 * K - amount)
    elif stack.intacct is not None:
        (note,) = stack.stripe.objects("credit_note")
        (adjustment,) = ia_records(stack, IA_CREDIT, note["id"])
        assert sorted(ia_lines(adjustment)) == [("2100", -deferred)] + (
            [("4900", -contra)] if contra else [])
    else:
        earned = months * 10 * K
        assert _books(sessions) == {"AR": 120 * K - amount, "Deferred": 100 * K - earned - deferred,
                                    "Subscription": earned, "Services": 20 * K, "Contra": contra}
        advance_months(stack, start, 11)
        recognize(rt)
        assert _books(sessions) == {"AR": 120 * K - amount, "Deferred": 0,
                                    "Subscription": 100 * K - deferred, "Services": 20 * K,
                                    "Contra": contra}
    report = run_audit(rt, require_alerts=False)
    assert report.ok, report.problems()
    # A replayed post step posts no second memo.
    replay_post(rt, opp)
    assert erp_credits(stack) in ([amount], None)


def test_a_credit_memo_booked_all_to_contra_revenue_is_a_variance(
    books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    """$10,000 credited on day 10, when none of the subscription was earned: the memo's
    "Subscription" line (Sage Intacct: the adjustment's deferred revenue line) takes it from
    deferred revenue. Planted as it was booked before (one "Credit" line of $10,000, Credits &
    Allowances; on Sage Intacct, the line on GL account 4900), the audit reports $10,000 to
    contra revenue against $0 earned."""
    stack, rt = books_stack, books_rt
    if on_ledger(stack):
        pytest.skip("the ledger's credits are checked from its general ledger (test_books_credit)")
    opp, invoice = _billed(stack, rt, sessions)
    advance(stack, days=10)
    _approve_credit(rt, opp, invoice, 10 * K)
    assert run_audit(rt, require_alerts=False).ok
    (note,) = stack.stripe.objects("credit_note")
    if stack.netsuite is not None:
        rt.erp._upsert("creditMemo", note["id"], {"item": {"items": [  # type: ignore[attr-defined]
            {"item": {"id": rt.erp._item_id("Credit")},  # type: ignore[attr-defined]
             "quantity": 1, "amount": 10_000, "description": "service concession"}]}})
        assert _ns_memo(stack)[0] == [("Credit", 10 * K)]
    else:
        assert stack.intacct is not None
        (adjustment,) = ia_records(stack, IA_CREDIT, note["id"])
        (line,) = stack.intacct.store.rows[IA_CREDIT][adjustment["key"]]["lines"]
        line["glAccount"] = {"id": "4900"}
    assert erp_books(stack, sessions)["Contra"] == 10 * K

    report = run_audit(rt, require_alerts=False)
    (variance,) = report.failing
    assert (variance.kind, variance.difference_minor, variance.opportunity_id) == (
        "credit_split_mismatch", 10 * K, opp)
    assert "USD 10,000.00 to contra revenue, but only USD 0.00" in variance.reason
