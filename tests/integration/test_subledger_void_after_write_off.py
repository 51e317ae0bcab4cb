"""Worked example: the seed deal's invoice written off after a close, then voided, on the
ledger, NetSuite and Sage Intacct (the helpers and the first steps are those of
`test_subledger_void_after_close.py`).

The seed deal from S, the 1st of a month (P1, P2 its months): $20,000 implementation (on S) +
$100,000 subscription (10 x 10,000), one $120,000 invoice on S. P1 is closed on P2's first day
(30,000 released: services 20,000, subscription 10,000). On P2's 11th day the invoice is marked
uncollectible, on P2's 16th it is voided. By hand:

                                   Dr         Cr      (ledger; the subledger books the same)
    invoice (S)       AR         120,000
                      Deferred              120,000
    close P1          Deferred    30,000
                      Services               20,000
                      Subscription           10,000
    write-off (P2 11) Bad debt    30,000             what was earned: a credit loss
                      Deferred    90,000             the nine months never recognized
                      AR                    120,000
    void (P2 16)      Services    20,000             the bad debt was revenue that should
                      Subscription 10,000             never have been: split as the revenue
                      Bad debt               30,000   accounts earned it (20 : 10)

The ERPs book the write-off with their own documents (NetSuite: a credit memo, "Bad debt"
30,000, whose item's account is Bad Debt Expense 6200, and Subscription 90,000 to 2100; Sage
Intacct: an AR adjustment, 6200 30,000 and 2100 90,000). The void finds nothing open on the
invoice, so neither books anything of its own; closebot posts, dated the void's day,

    reversal          Services    20,000             `closebot-reversal-<invoice>:void`
                      Subscription 10,000
                      Bad debt               30,000

After the void, on every ERP: AR 0, Deferred 0, 4000 Subscription 0, 4100 Services 0, Bad Debt
Expense 0, as the ledger. A replay of the void finds the reversal by its external ID and adds
nothing. P2 rolls forward 90,000 + 0 - 90,000 (the write-off) - 0 = 0: the reversal does not
touch Deferred Revenue.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ledger.close import RollForward
from sync.ports_books import REVERSAL
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    dollars,
    ia_lines,
    ia_records,
    ledger_books,
    on_ledger,
    replay_post,
    stripe_client,
)
from tests.integration.test_books_void import _salesforce
from tests.integration.test_subledger_changes import _close_months
from tests.integration.test_subledger_void_after_close import (
    _books,
    _journal_entries,
    _journal_lines,
    _reversal_lines,
    _reversals,
    _written_off_after_p1,
)


def _by_account(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
                ) -> dict[str, int]:
    """4000, 4100 (credit positive) and 6200 (debit positive) as the ERP's general ledger
    holds them: NetSuite's accounting lines of every transaction (so the write-off memo's
    "Bad debt" line counts where its item books it), Sage Intacct's AR adjustment lines and
    journal entry lines."""
    if on_ledger(stack):
        books = ledger_books(sessions)
        return {"4000": books["Subscription revenue"], "4100": books["Services revenue"],
                "6200": books["Bad debt expense"]}
    if stack.netsuite is not None:
        ids = rt.erp.account_ids()  # type: ignore[attr-defined]
        out = {}
        for number, sign in (("4000", -1), ("4100", -1), ("6200", 1)):
            rows = rt.erp.suiteql(  # type: ignore[attr-defined]
                f"SELECT amount FROM transactionaccountingline WHERE account = {ids[number]}")
            out[number] = sign * sum(dollars(row["amount"]) for row in rows)
        return out
    credits = dict.fromkeys(("4000", "4100", "6200"), 0)
    for account, amount in _journal_lines(stack):
        if account in credits:
            credits[account] += amount
    written_off = -sum(amount for adj in ia_records(stack, "accounts-receivable/adjustment")
                       for account, amount in ia_lines(adj) if account == "6200")
    return {"4000": credits["4000"], "4100": credits["4100"],
            "6200": written_off - credits["6200"]}


def test_void_after_a_write_off_moves_the_bad_debt_back_to_revenue(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start, opp, invoice = _written_off_after_p1(stack, rt, sessions)
    assert _books(stack, rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 30 * K, "Bad debt": 30 * K}
    assert _by_account(stack, rt, sessions) == {"4000": 10 * K, "4100": 20 * K, "6200": 30 * K}
    assert _salesforce(stack, opp) == ("Uncollectible", 0, "Synced")

    advance(stack, days=5)
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    replay_post(rt, opp)  # a replay finds the reversal and posts nothing twice
    replay_post(rt, opp)

    after = {"AR": 0, "Deferred": 0, "Revenue": 0, "Bad debt": 0}
    assert _books(stack, rt, sessions, opp) == after
    assert _by_account(stack, rt, sessions) == {"4000": 0, "4100": 0, "6200": 0}
    # Stripe: void, nothing paid; Salesforce: void, nothing outstanding.
    voided = stripe_client(stack).v1.invoices.retrieve(invoice)
    assert (voided["status"], voided["amount_paid"]) == ("void", 0)
    assert _salesforce(stack, opp) == ("Void", 0, "Synced")
    if not on_ledger(stack):
        assert _reversals(stack) == [f"{REVERSAL}{invoice}:void"]
        void_day = (start.replace(day=28) + timedelta(days=4)).replace(day=16)
        assert sorted(_reversal_lines(stack)) == [
            ("4000", -10 * K, void_day), ("4100", -20 * K, void_day),
            ("6200", 30 * K, void_day)]
        assert len(_journal_entries(stack)) == 2  # the close of P1 and the reversal

    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)
    assert rolled[1] == (RollForward("USD", 90 * K, 0, 90 * K, 0, 0, 0),)
    assert _books(stack, rt, sessions, opp) == after
    assert _by_account(stack, rt, sessions) == {"4000": 0, "4100": 0, "6200": 0}
    if not on_ledger(stack):
        assert len(_journal_entries(stack)) == 2
