"""Worked examples: the seed deal's invoice voided (or written off) after a close had posted
some of its revenue to NetSuite or Sage Intacct, ending with the same books as the ledger.

The seed deal from S, the 1st of a month (P1, P2 its months): $20,000 implementation (on S) +
$100,000 subscription (10 x 10,000), one $120,000 invoice on S. P1 is closed on P2's first day
(30,000 released), then on P2's 11th day the invoice is voided or written off. By hand:

                                   Dr         Cr      (ledger; the subledger books the same)
    invoice (S)       AR         120,000
                      Deferred              120,000
    close P1          Deferred    30,000
                      Services               20,000
                      Subscription           10,000
    void (P2 day 11)  Deferred    90,000             the nine months never recognized
                      Services    20,000             revenue the close had posted, reversed
                      Subscription 10,000
                      AR                    120,000

NetSuite and Sage Intacct book the void of the whole invoice against Deferred Revenue (the
credit memo transformed from the invoice, whose items carry 2100; the AR adjustment to 2100):
Dr Deferred 120,000 / Cr AR 120,000. That leaves Deferred -120,000 + 30,000 + 120,000 =
30,000 debit and revenue 30,000, so closebot posts, dated the void's day,

    reversal          Services    20,000             `closebot-reversal-<invoice>:void`
                      Subscription 10,000
                      Deferred               30,000

and every ERP ends with AR 0, Deferred 0, revenue 0. P2 rolls forward 90,000 + 0 - 90,000
(the void 120,000 less the reversal 30,000 on the ERPs) - 0 = 0. The reversal posts once: a
replayed void finds it, and an ERP down when the void was followed gets it on the retry.

A write-off instead (ASC 326: earned revenue stays, its receivable is bad debt): the ledger
books Bad debt 30,000 + Deferred 90,000 / AR 120,000; the ERPs split the invoice by what its
plan had earned on the day (30,000, what the close posted) the same way, so nothing is
posted: revenue 30,000, bad debt 30,000, Deferred 0, AR 0 everywhere.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import make_revenue_journal
from sandbox.stack import SandboxStack
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger.close import RollForward
from sync.ledger.subledger_close import ErpPeriodCloses
from sync.ports_books import REVERSAL
from sync.ports_revenue import RevenueDue
from tests.integration.books import (
    K,
    advance,
    advance_months,
    books_rt,  # noqa: F401 - a fixture
    books_stack,  # noqa: F401 - a fixture, on each ERP
    deal_status,
    dollars,
    ia_lines,
    ia_records,
    ledger_books,
    mirrored,
    ns_lines,
    ns_records,
    on_ledger,
    recognize,
    replay_post,
    seed_acme,
    stripe_client,
)
from tests.integration.erp_books import erp_books
from tests.integration.test_books_void import _audit_after_void
from tests.integration.test_revenue_close_erps import JOURNAL, _Unavailable
from tests.integration.test_subledger_changes import _close_months, _first_of_next_month


def _books(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session], opp: str
           ) -> dict[str, int]:
    """AR, Deferred (credit positive), revenue (4000 + 4100) and bad debt as each ERP holds
    them: on NetSuite and Sage Intacct revenue is only ever in journal entries, bad debt in
    write-offs' documents and journal entries."""
    if on_ledger(stack):
        books = ledger_books(sessions)
        return {"AR": books["AR"], "Deferred": books["Deferred revenue"],
                "Revenue": books["Subscription revenue"] + books["Services revenue"],
                "Bad debt": books["Bad debt expense"]}
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    deferred = journal.deferred_moves("USD", date(2000, 1, 1), date(2999, 12, 31)).closing
    revenue = sum(amount for account, amount in _journal_lines(stack)
                  if account in ("4000", "4100"))
    if stack.netsuite is not None:
        bad_debt = sum(amount for memo in ns_records(stack, "creditMemo")
                       for item, amount in ns_lines(memo) if item == "Bad debt")
    else:
        bad_debt = -sum(amount for adj in ia_records(stack, "accounts-receivable/adjustment")
                        for account, amount in ia_lines(adj) if account == "6200")
    # A void after a write-off moves it back to revenue by journal entry (Cr 6200).
    bad_debt -= sum(amount for account, amount in _journal_lines(stack) if account == "6200")
    return {"AR": erp_books(stack, sessions, opp)["AR"], "Deferred": deferred,
            "Revenue": revenue, "Bad debt": bad_debt}


def _journal_lines(stack: SandboxStack) -> list[tuple[str, int]]:
    """(account number, credit positive, in cents) of every journal entry line in the ERP."""
    if stack.netsuite is not None:
        return [(str(line["account"]["refName"]).split()[0],
                 dollars(line.get("credit") or 0) - dollars(line.get("debit") or 0))
                for entry in ns_records(stack, "journalEntry") for line in entry["line"]["items"]]
    return [(str(line["glAccount"]["id"]),
             (1 if line["txnType"] == "credit" else -1) * dollars(line["txnAmount"]))
            for entry in ia_records(stack, JOURNAL) for line in entry["lines"]]


def _reversals(stack: SandboxStack) -> list[str]:
    """The external IDs (Sage Intacct: reference numbers) of closebot's reversal entries."""
    if stack.netsuite is not None:
        keys = [str(e.get("externalId")) for e in ns_records(stack, "journalEntry")]
    else:
        keys = [str(e.get("referenceNumber")) for e in ia_records(stack, JOURNAL)]
    return [key for key in keys if key.startswith(REVERSAL)]


def _closed_p1_then(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
                    ) -> tuple[date, str, str]:
    """The seed deal billed on S, P1 closed on P2's first day; today P2's 11th day."""
    start = _first_of_next_month(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    advance_months(stack, start, 1)
    _close_months(stack, rt, sessions, start, 1)
    assert _books(stack, rt, sessions, opp) == {
        "AR": 120 * K, "Deferred": 90 * K, "Revenue": 30 * K, "Bad debt": 0}
    advance(stack, days=10)
    (invoice,) = mirrored(sessions, opp)
    return start, opp, invoice.billing_id


def _written_off_after_p1(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session]
                          ) -> tuple[date, str, str]:
    """`_closed_p1_then`, and the invoice marked uncollectible on P2's 11th day (a replay of the
    post step finds the write-off booked)."""
    start, opp, invoice = _closed_p1_then(stack, rt, sessions)
    stripe_client(stack).v1.invoices.mark_uncollectible(invoice)
    sync_once(rt)
    replay_post(rt, opp)
    return start, opp, invoice


def test_void_after_a_close_reverses_its_revenue_in_the_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start, opp, invoice = _closed_p1_then(stack, rt, sessions)
    subledger = getattr(rt.erp, "subledger", None)
    if subledger is not None:  # the ERP's journal down when the void is followed
        journal = make_revenue_journal(rt.erp)
        assert journal is not None
        flaky = _Unavailable(journal)
        subledger.journal_of = lambda erp: flaky
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    if subledger is not None:
        assert flaky.failed and _reversals(stack) == []
    replay_post(rt, opp)  # the retry posts it; the next replay finds it
    replay_post(rt, opp)

    assert _books(stack, rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 0, "Bad debt": 0}
    _audit_after_void(rt)
    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)
    assert rolled[1] == (RollForward("USD", 90 * K, 0, 90 * K, 0, 0, 0),)
    if not on_ledger(stack):
        assert _reversals(stack) == [f"{REVERSAL}{invoice}:void"]
        void_day = (start.replace(day=28) + timedelta(days=4)).replace(day=11)
        assert sorted(_reversal_lines(stack)) == [
            ("2100", 30 * K, void_day), ("4000", -10 * K, void_day),
            ("4100", -20 * K, void_day)]
        assert len(_journal_entries(stack)) == 2  # the close of P1 and the reversal
    assert _books(stack, rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 0, "Bad debt": 0}


def _journal_entries(stack: SandboxStack) -> list[dict[str, object]]:
    return ns_records(stack, "journalEntry") if stack.netsuite else ia_records(stack, JOURNAL)


def _reversal_lines(stack: SandboxStack) -> list[tuple[str, int, date]]:
    """(account, credit positive in cents, the entry's date) of the reversal's lines."""
    if stack.netsuite is not None:
        (entry,) = [e for e in ns_records(stack, "journalEntry")
                    if str(e["externalId"]).startswith(REVERSAL)]
        return [(str(line["account"]["refName"]).split()[0],
                 dollars(line.get("credit") or 0) - dollars(line.get("debit") or 0),
                 date.fromisoformat(str(entry["tranDate"])[:10]))
                for line in entry["line"]["items"]]
    (entry,) = [e for e in ia_records(stack, JOURNAL)
                if str(e["referenceNumber"]).startswith(REVERSAL)]
    return [(str(line["glAccount"]["id"]),
             (1 if line["txnType"] == "credit" else -1) * dollars(line["txnAmount"]),
             date.fromisoformat(str(entry["postingDate"])[:10])) for line in entry["lines"]]


def test_write_off_after_a_close_needs_no_entry_in_the_erp(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start, opp, _ = _written_off_after_p1(stack, rt, sessions)

    after = {"AR": 0, "Deferred": 0, "Revenue": 30 * K, "Bad debt": 30 * K}
    assert _books(stack, rt, sessions, opp) == after
    advance_months(stack, start, 2)
    rolled = _close_months(stack, rt, sessions, start, 2)
    assert rolled[1] == (RollForward("USD", 90 * K, 0, 90 * K, 0, 0, 0),)
    if not on_ledger(stack):
        assert _reversals(stack) == []
        assert len(_journal_entries(stack)) == 1
    assert _books(stack, rt, sessions, opp) == after


def test_a_reversal_the_erp_refuses_for_its_closed_period_is_dated_the_next_month(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """The void of the first example, the ERP down when it was followed; before the retry the
    controller closed P2 in the ERP. The reversal (Dr 4100 20,000, Dr 4000 10,000 / Cr 2100
    30,000) is refused on P2's 11th day and posted on P3's first, its memo saying why; the
    books end as before: AR 0, Deferred 0, revenue 0."""
    stack, rt = books_stack, books_rt
    erp = stack.netsuite or stack.intacct
    if erp is None:
        pytest.skip("the ledger books the void and its reversal in one entry")
    start, opp, invoice = _closed_p1_then(stack, rt, sessions)
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    flaky = _Unavailable(journal)
    rt.erp.subledger.journal_of = lambda erp: flaky  # type: ignore[union-attr]
    stripe_client(stack).v1.invoices.void_invoice(invoice)
    sync_once(rt)
    erp.close_period(f"{add_months(start, 1):%Y-%m}")
    replay_post(rt, opp)

    p3 = add_months(start, 2)
    assert sorted(_reversal_lines(stack)) == [
        ("2100", 30 * K, p3), ("4000", -10 * K, p3), ("4100", -20 * K, p3)]
    (entry,) = [e for e in _journal_entries(stack) if REVERSAL in str(e)]
    assert f"closed {add_months(start, 1):%Y-%m}" in str(entry)
    assert _books(stack, rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 0, "Bad debt": 0}


def test_write_off_before_the_month_it_follows_is_closed(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    """P1 closed; the invoice written off on P3's 3rd day, before P2 is closed. P2's
    subscription month (10,000, due on its last day) was earned before the write-off.

        ledger      revenue 40,000 (services 20,000, subscription 20,000), bad debt 40,000,
                    Deferred 0, AR 0: the write-off Dr Bad debt 40,000, Dr Deferred 80,000
        ERPs        the memo splits the invoice by what the plan had earned on P3's 3rd day:
                    Bad debt 40,000, Deferred 80,000; the subledger recognizes P2's month
                    before writing off (Bad debt 40,000 there too), so P2's close posts it:
                    Dr 2100 10,000 / Cr 4000 10,000, and the books are the ledger's
    Before, the subledger stopped P2's month unrecognized: the ERP kept 10,000 in Deferred
    Revenue and 30,000 of revenue. P2 rolls forward 90,000 + 0 - 0 - 10,000 = 80,000; P3
    80,000 + 0 - 80,000 - 0 = 0."""
    stack, rt = books_stack, books_rt
    start, opp, invoice = _closed_p1_then(stack, rt, sessions)
    advance_months(stack, start, 2)
    advance(stack, days=2)
    if on_ledger(stack):
        recognize(rt)  # the scheduler's revenue job, run since P2 ended
    stripe_client(stack).v1.invoices.mark_uncollectible(invoice)
    sync_once(rt)
    replay_post(rt, opp)
    if not on_ledger(stack):  # the close card shows P2's month, recognized by the write-off
        journal = make_revenue_journal(rt.erp)
        assert journal is not None
        assert ErpPeriodCloses(sessions, journal).revenue_due(
            through=add_months(start, 2) - timedelta(days=1)) == [RevenueDue("USD", 10 * K, 1)]
    advance_months(stack, start, 3)
    rolled = _close_months(stack, rt, sessions, start, 3)

    assert _books(stack, rt, sessions, opp) == {
        "AR": 0, "Deferred": 0, "Revenue": 40 * K, "Bad debt": 40 * K}
    assert rolled[1:] == [(RollForward("USD", 90 * K, 0, 0, 10 * K, 80 * K, 80 * K),),
                          (RollForward("USD", 80 * K, 0, 80 * K, 0, 0, 0),)]
