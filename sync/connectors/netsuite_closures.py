"""How a voided or written-off invoice is booked in NetSuite.

- **Void**: NetSuite's REST record service transforms the invoice into a credit memo
  (`POST /record/v1/invoice/{id}/!transform/creditMemo`, as the Transforming Records guide
  documents): the memo copies the invoice's lines and is applied to it, so the invoice closes and
  NetSuite reverses what it recognized on it with its own revenue arrangement.
- **Uncollectible**: a credit memo applied to the invoice in full, the way billing systems write an
  invoice off in NetSuite: a "Bad debt" line for what was earned (the item's account is Bad Debt
  Expense), the invoice's own items for what was not (taking it back out of deferred revenue, so
  NetSuite recognizes no more of it), and a "Sales tax" line for its tax.
Both carry the closure key as their external ID, so a retry finds the memo instead of a second one.

A **credit** approved in Slack is booked as the embedded ledger books it (`sync/ledger/replan.py`):
the invoice's own items for the part its obligations had not earned on the credit's date (in
proportion to what each still had to earn, so it comes out of deferred revenue and NetSuite
recognizes that much less), and a "Credit" line (Credits & Allowances, contra revenue) only for
what exceeds it. Its share of any tax is not split out, as in the ledger.
"""

from __future__ import annotations

from typing import Any

from sync.ledger.replan import proportional
from sync.model import CreditNote, InvoiceClosure

BAD_DEBT_ITEM, TAX_ITEM = "Bad debt", "Sales tax"


def write_off_lines(closure: InvoiceClosure, *, remaining: int, total: int,
                    recurring_item: str, one_time_item: str) -> list[tuple[str, str, int]]:
    """(item, description, amount) of a write-off memo for the `remaining` open balance.

    As in the embedded ledger: the tax share is in proportion, and the open balance takes the
    unearned part first (cash already received paid for what was earned first).
    """
    tax = (closure.tax_minor * remaining + total // 2) // total if total else 0
    left = remaining - tax
    lines: list[tuple[str, str, int]] = []
    for line in closure.lines:
        unearned = min(max(line.amount_minor - line.earned_minor, 0), left)
        if unearned:
            item = recurring_item if line.recurring else one_time_item
            lines.append((item, f"Not earned, written off: {line.description}", unearned))
            left -= unearned
    if left:
        lines.append((BAD_DEBT_ITEM, f"Bad debt: Stripe invoice {closure.invoice_billing_id}",
                      left))
    if tax:
        lines.append((TAX_ITEM, "Sales tax on the written-off invoice", tax))
    return lines


def credit_lines(credit: CreditNote, *, recurring_item: str, one_time_item: str,
                 credit_item: str) -> list[tuple[str, str, int]]:
    """(item, description, amount) of a credit memo: deferred first, contra revenue after."""
    unearned = [max(line.amount_minor - line.earned_minor, 0) for line in credit.lines]
    deferred = credit.unearned_minor
    lines = [(recurring_item if line.recurring else one_time_item,
              f"Credit against revenue not yet earned: {line.description}", share)
             for line, share in zip(credit.lines, proportional(deferred, unearned), strict=True)
             if share]
    if credit.amount_minor > deferred:
        lines.append((credit_item, credit.reason or "Credit", credit.amount_minor - deferred))
    return lines


def memo_fields(closure: InvoiceClosure) -> dict[str, Any]:
    what = "voided" if closure.kind.value == "void" else "marked uncollectible"
    return {
        "externalId": closure.key,
        "tranDate": closure.closed_on.isoformat(),
        "memo": f"Stripe invoice {closure.invoice_billing_id} {what}",
    }
