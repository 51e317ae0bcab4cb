"""One accounting outcome, of one deal or of the whole books, read from whichever ERP the stack
posts to, so each worked example asserts it once for the ledger, NetSuite and Sage Intacct.

    AR        what customers still owe: open invoices less credits not yet applied
    Revenue   what the invoices booked as revenue net of credits, deferred or already
              recognized (NetSuite and Sage Intacct release deferred revenue with their own
              schedules, which their emulators don't run; on the ledger it is deferred revenue
              plus subscription and services revenue)
    Contra    credits booked to Credits & Allowances (contra revenue)

Sales orders, invoices and credits are listed by their totals where the ERP keeps them as
records (NetSuite, Sage Intacct); the ledger keeps journal entries only, so they are None there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sandbox.stack import SandboxStack
from sync.ledger import Ledger, audit_view
from tests.integration.books import (
    dollars,
    ia_lines,
    ia_records,
    mirrored,
    ns_lines,
    ns_records,
)

# NetSuite's items that are not the invoice's revenue, and its contra revenue item; Sage
# Intacct's deferred revenue and contra revenue GL accounts (closebot's defaults).
NS_NOT_REVENUE, NS_CONTRA = {"Sales tax", "Bad debt", "Credit"}, "Credit"
IA_DEFERRED, IA_CONTRA = "2100", "4900"
IA_INVOICE, IA_CREDIT = "accounts-receivable/invoice", "accounts-receivable/adjustment"
IA_ORDER = "order-entry/document::Sales Order"


def erp_name(stack: SandboxStack) -> str:
    return "netsuite" if stack.netsuite else "intacct" if stack.intacct else "ledger"


def erp_books(stack: SandboxStack, sessions: sessionmaker[Session], opp: str | None = None
              ) -> dict[str, int]:
    """{"AR", "Revenue", "Contra"} in cents, as the ERP's own records say: of the deal `opp`
    (its invoices, and the credits on them), or of the whole books."""
    keys = None if opp is None else _billing_keys(stack, sessions, opp)
    if stack.netsuite is not None:
        return _netsuite_books(stack, keys)
    if stack.intacct is not None:
        return _intacct_books(stack, keys)
    return _ledger_books(sessions, opp, keys)


def _billing_keys(stack: SandboxStack, sessions: sessionmaker[Session], opp: str) -> set[str]:
    """The deal's Stripe invoice ids, its credit note ids and its closure keys: the references
    closebot gives their ERP records."""
    invoices = {i.billing_id for i in mirrored(sessions, opp)}
    notes = {n["id"] for n in stack.stripe.objects("credit_note") if n["invoice"] in invoices}
    closures = {f"{i}:{kind}" for i in invoices for kind in ("void", "uncollectible")}
    return invoices | notes | closures


def _netsuite_books(stack: SandboxStack, keys: set[str] | None) -> dict[str, int]:
    invoices, memos = (
        [r for r in ns_records(stack, kind) if keys is None or r.get("externalId") in keys]
        for kind in ("invoice", "creditMemo"))
    return {"AR": sum(dollars(i["amountRemaining"]) for i in invoices)
            - sum(dollars(m["amountRemaining"]) for m in memos),
            "Revenue": _sum(ns_lines, invoices, NS_NOT_REVENUE, keep=False)
            - _sum(ns_lines, memos, NS_NOT_REVENUE, keep=False),
            "Contra": _sum(ns_lines, memos, {NS_CONTRA})}


def _intacct_books(stack: SandboxStack, keys: set[str] | None) -> dict[str, int]:
    invoices, credits = (
        [r for r in ia_records(stack, obj) if keys is None or r.get("referenceNumber") in keys]
        for obj in (IA_INVOICE, IA_CREDIT))
    # An adjustment's lines and what it has left to apply are negative in Sage.
    return {"AR": sum(dollars(r["totalTxnAmountDue"]) for r in invoices + credits),
            "Revenue": _sum(ia_lines, invoices + credits, {IA_DEFERRED}),
            "Contra": -_sum(ia_lines, credits, {IA_CONTRA})}


def _ledger_books(sessions: sessionmaker[Session], opp: str | None, keys: set[str] | None
                  ) -> dict[str, int]:
    """From the general ledger's postings, each traced to its invoice or sales order."""
    books = {"AR": 0, "Revenue": 0, "Contra": 0}
    role = {"receivable": ("AR", 1), "deferred_revenue": ("Revenue", -1),
            "revenue": ("Revenue", -1), "contra_revenue": ("Contra", 1)}
    for p in Ledger(sessions).read(audit_view.postings):
        ours = keys is None or p.invoice_external_id in keys or (
            p.order_external_id or "").startswith(f"{opp}:")
        if ours and p.role in role:
            name, sign = role[p.role]
            books[name] += sign * p.amount_minor
    return books


def erp_orders(stack: SandboxStack) -> list[int] | None:
    """The sales orders' totals, smallest first."""
    if stack.netsuite is not None:
        return sorted(dollars(o["total"]) for o in ns_records(stack, "salesOrder"))
    if stack.intacct is not None:
        return sorted(dollars(o["totalTxnAmount"]) for o in ia_records(stack, IA_ORDER))
    return None


def erp_invoices(stack: SandboxStack) -> list[int] | None:
    """The invoices' totals (tax included), smallest first."""
    if stack.netsuite is not None:
        return sorted(dollars(i["total"]) for i in ns_records(stack, "invoice"))
    if stack.intacct is not None:
        return sorted(dollars(i["totalTxnAmount"]) for i in ia_records(stack, IA_INVOICE))
    return None


def erp_credits(stack: SandboxStack) -> list[int] | None:
    """The credit memos' (Sage Intacct: AR adjustments') totals as positive amounts."""
    if stack.netsuite is not None:
        return sorted(dollars(m["total"]) for m in ns_records(stack, "creditMemo"))
    if stack.intacct is not None:
        return sorted(-dollars(a["totalTxnAmount"]) for a in ia_records(stack, IA_CREDIT))
    return None


def _sum(lines_of: Callable[[dict[str, Any]], list[tuple[str, int]]],
         records: list[dict[str, Any]], names: set[str], *, keep: bool = True) -> int:
    """The lines of `records` whose item or account is (keep) or is not in `names`, summed."""
    return sum(amount for record in records for name, amount in lines_of(record)
               if (name in names) == keep)
