"""Worked example: a partly paid invoice voided, booked alike on the ledger, NetSuite and Sage
Intacct: only what is still open comes back out; the paid part stays booked.

The seed deal from S, the 1st of a month (P1 .. P4 its months): $20,000 implementation (on S)
+ $100,000 subscription (10 x 10,000, each month's due on its last day), one $120,000 invoice
on S. $40,000 of it is paid on S by a payment attached to the invoice (Stripe's partial
payments); P1 .. P3 are closed on P4's first day (50,000 released); on P4's 11th day the
invoice is voided with 80,000 open. By hand:

                                      Dr          Cr     (ledger; the subledger books the same)
    invoice (S)       AR            120,000
                      Deferred                 120,000
    payment (S)       Cash/clearing  40,000
                      AR                        40,000
    close P1 .. P3    Deferred       50,000
                      Services                  20,000
                      Subscription              30,000
    void (P4 day 11)  Deferred       70,000             the open 80,000 takes the unearned
                      Services        4,000             70,000 first, then 10,000 of revenue,
                      Subscription    6,000             split as it was earned (20 : 30)
                      AR                        80,000

After: AR 0, Deferred 0, Services 16,000, Subscription 24,000: the 40,000 paid stays revenue.

NetSuite: a credit memo of the open 80,000 only, applied to the invoice for 80,000 (external
ID `<invoice>:void`), split as the ledger splits it: Subscription 70,000 (not earned), then
One-time charges 4,000 and Subscription 6,000 (earned); its items carry Deferred Revenue, so
Dr 2100 80,000 / Cr AR 80,000. Sage Intacct: an AR adjustment of -80,000 to 2100 applied to the
invoice for 80,000. On both, closebot's reversal of the revenue the closes had posted
(`closebot-reversal-<invoice>:void`): Dr 4100 4,000, Dr 4000 6,000 / Cr 2100 10,000. So
Deferred = -120,000 + 50,000 + 80,000 - 10,000 = 0, AR = 120,000 - 40,000 - 80,000 = 0, revenue
4100 20,000 - 4,000 = 16,000 and 4000 30,000 - 6,000 = 24,000 on every ERP, as on the ledger.
Before, NetSuite transformed the whole invoice into a 120,000 memo applied for 80,000: its
Deferred ended 40,000 lower (a debit) and AR -40,000 (an unapplied credit).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.wiring import make_revenue_journal
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ports_books import REVERSAL
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
    journal_entries,
    ledger_books,
    mirrored,
    ns_lines,
    ns_records,
    on_ledger,
    replay_post,
    seed_acme,
    stripe_client,
)
from tests.integration.erp_books import erp_books
from tests.integration.test_books_cash_pay import card_payment, post_form
from tests.integration.test_books_void import _salesforce
from tests.integration.test_subledger_changes import _close_months, _first_of_next_month
from tests.integration.test_subledger_void_after_close import _journal_lines, _reversal_lines

ADJUSTMENT, PAYMENT = "accounts-receivable/adjustment", "accounts-receivable/payment"
AFTER = {"AR": 0, "Deferred": 0, "Services": 16 * K, "Subscription": 24 * K}


def _ledger(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The ledger's books (with NetSuite or Sage Intacct: the subledger's, which books the same
    entries): Deferred credit positive, revenue per account."""
    books = ledger_books(sessions)
    return {"AR": books["AR"], "Deferred": books["Deferred revenue"],
            "Services": books["Services revenue"], "Subscription": books["Subscription revenue"]}


def _erp(stack: SandboxStack, rt: Runtime, sessions: sessionmaker[Session], opp: str
         ) -> dict[str, int]:
    """The same accounts as the ERP's own records hold them: AR from its invoices and credits,
    Deferred from its general ledger (2100), revenue from its journal entries (4000, 4100), the
    only records that ever post revenue there."""
    if on_ledger(stack):
        return _ledger(sessions)
    journal = make_revenue_journal(rt.erp)
    assert journal is not None
    deferred = journal.deferred_moves("USD", date(2000, 1, 1), date(2999, 12, 31)).closing
    lines = _journal_lines(stack)
    return {"AR": erp_books(stack, sessions, opp)["AR"], "Deferred": deferred,
            "Services": sum(amount for account, amount in lines if account == "4100"),
            "Subscription": sum(amount for account, amount in lines if account == "4000")}


def _records(stack: SandboxStack) -> int:
    """How many records the ERP holds that a replayed void could repeat."""
    if stack.netsuite is not None:
        return sum(len(ns_records(stack, kind)) for kind in ("creditMemo", "journalEntry",
                                                             "customerPayment"))
    return sum(len(ia_records(stack, obj)) for obj in (
        ADJUSTMENT, PAYMENT, "general-ledger/journal-entry"))


def test_void_of_a_partly_paid_invoice_takes_out_only_what_is_open(
    books_stack: SandboxStack, books_rt: Runtime, sessions: sessionmaker[Session],  # noqa: F811
) -> None:
    stack, rt = books_stack, books_rt
    start = _first_of_next_month(stack)
    opp = seed_acme(stack, start)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    (invoice,) = mirrored(sessions, opp)
    invoice_id = invoice.billing_id
    post_form(stack, f"/v1/invoices/{invoice_id}/attach_payment",
              {"payment_intent": card_payment(stack, invoice_id, 40 * K)})
    assert stripe_client(stack).v1.invoices.retrieve(invoice_id)["amount_remaining"] == 80 * K
    sync_once(rt)  # the partial payment reaches the books
    advance_months(stack, start, 3)
    _close_months(stack, rt, sessions, start, 3)
    closed = {"AR": 80 * K, "Deferred": 70 * K, "Services": 20 * K, "Subscription": 30 * K}
    assert _erp(stack, rt, sessions, opp) == closed
    advance(stack, days=10)

    stripe_client(stack).v1.invoices.void_invoice(invoice_id)
    sync_once(rt)

    assert _ledger(sessions) == AFTER
    assert _erp(stack, rt, sessions, opp) == AFTER == _ledger(sessions)
    # Stripe: void, the 40,000 paid kept; Salesforce: void, nothing outstanding.
    voided = stripe_client(stack).v1.invoices.retrieve(invoice_id)
    assert (voided["status"], voided["amount_paid"]) == ("void", 40 * K)
    assert _salesforce(stack, opp) == ("Void", 0, "Synced")
    # What the invoices booked net of credits: the 40,000 paid, now all revenue.
    assert erp_books(stack, sessions, opp) == {"AR": 0, "Revenue": 40 * K, "Contra": 0}
    if stack.netsuite is not None:
        (ns_invoice,) = ns_records(stack, "invoice", invoice_id)
        (memo,) = ns_records(stack, "creditMemo", f"{invoice_id}:void")
        assert (dollars(ns_invoice["amountRemaining"]), dollars(memo["total"]),
                dollars(memo["amountRemaining"])) == (0, 80 * K, 0)
        assert sorted(ns_lines(memo)) == [
            ("One-time charges", 4 * K), ("Subscription", 6 * K), ("Subscription", 70 * K)]
        assert [(a["doc"]["id"], dollars(a["amount"])) for a in memo["apply"]["items"]] == [
            (ns_invoice["id"], 80 * K)]
    if stack.intacct is not None:
        (ia_invoice,) = ia_records(stack, "accounts-receivable/invoice", invoice_id)
        (adjustment,) = ia_records(stack, ADJUSTMENT, f"{invoice_id}:void")
        assert (dollars(ia_invoice["totalTxnAmountDue"]), ia_lines(adjustment)) == (
            0, [("2100", -80 * K)])
        (applied,) = ia_records(stack, PAYMENT, f"{invoice_id}:void:apply")
        assert [d["txnAmount"] for d in applied["details"]] == ["80000.00"]
    if not on_ledger(stack):
        assert sorted((account, amount) for account, amount, _ in _reversal_lines(stack)) == [
            ("2100", 10 * K), ("4000", -6 * K), ("4100", -4 * K)]

    # A replay (a duplicate event, a person's Retry) books nothing twice.
    before = journal_entries(sessions), None if on_ledger(stack) else _records(stack)
    replay_post(rt, opp)
    assert (journal_entries(sessions), None if on_ledger(stack) else _records(stack)) == before
    assert _erp(stack, rt, sessions, opp) == AFTER == _ledger(sessions)
    if not on_ledger(stack):
        assert [key for key in (str(e.get("externalId") or e.get("referenceNumber"))
                                for e in (ns_records(stack, "journalEntry") if stack.netsuite
                                          else ia_records(stack, "general-ledger/journal-entry")))
                if key.startswith(REVERSAL)] == [f"{REVERSAL}{invoice_id}:void"]
