"""How a voided or written-off invoice is booked in NetSuite.

- **Void** of an invoice still fully open: NetSuite's REST record service transforms the invoice
  into a credit memo (`POST /record/v1/invoice/{id}/!transform/creditMemo`, as the Transforming
  Records guide documents): the memo copies the invoice's lines and is applied to it, so the
  invoice closes and NetSuite reverses what it recognized on it with its own revenue arrangement.
- **Void** of an invoice partly paid (or partly credited): a transform would copy the invoice's
  full total and apply only what is open, leaving the paid part as an unapplied credit and taking
  it out of Deferred Revenue too. So the memo carries only the open amount, split as the embedded
  ledger splits it (`closure_lines`): the lines' unearned part first, then the earned part in
  proportion to what each line earned, and the tax share; it is applied to the invoice for that
  open amount. The paid part stays booked, as on the ledger.
- **Uncollectible**: a credit memo applied to the invoice in full, the way billing systems write an
  invoice off in NetSuite: a "Bad debt" line for what was earned (the item's account is Bad Debt
  Expense), the invoice's own items for what was not (taking it back out of deferred revenue, so
  NetSuite recognizes no more of it), and a "Sales tax" line for its tax.
Each carries the closure key as its external ID, so a retry finds the memo instead of a second one.

A **credit** approved in Slack is booked as the embedded ledger books it (`sync/ledger/replan.py`):
the invoice's own items for the part its obligations had not earned on the credit's date (in
proportion to what each still had to earn, so it comes out of deferred revenue and NetSuite
recognizes that much less), and a "Credit" line (Credits & Allowances, contra revenue) only for
what exceeds it. Its share of any tax is not split out, as in the ledger.
"""

from __future__ import annotations

from typing import Any

from sync.ledger.closures import split_earned
from sync.ledger.replan import proportional
from sync.model import ClosureKind, ClosureLine, CreditNote, InvoiceClosure

BAD_DEBT_ITEM, TAX_ITEM = "Bad debt", "Sales tax"


def closure_lines(closure: InvoiceClosure, *, remaining: int, total: int,
                  recurring_item: str, one_time_item: str) -> list[tuple[str, str, int]]:
    """(item, description, amount) of a void's or write-off's memo for the `remaining` open
    balance of an invoice of `total`.

    As in the embedded ledger (`sync/ledger/closures.py`): the tax share is in proportion, and the
    open balance takes the unearned part first (cash already received paid for what was earned
    first). What is left of it was earned: a write-off books it as bad debt; a void takes it off
    each line's own item in proportion to what the line earned (its items carry Deferred Revenue;
    the revenue a close had released comes back to it by closebot's reversal entry,
    `sync/ledger/erp_reversals.py`).
    """
    void = closure.kind is ClosureKind.VOID
    done = "voided" if void else "written off"
    tax = (closure.tax_minor * remaining + total // 2) // total if total else 0
    left = remaining - tax
    lines: list[tuple[str, str, int]] = []

    def item(line: ClosureLine) -> str:
        return recurring_item if line.recurring else one_time_item

    for line in closure.lines:
        unearned = min(max(line.amount_minor - line.earned_minor, 0), left)
        if unearned:
            lines.append((item(line), f"Not earned, {done}: {line.description}", unearned))
            left -= unearned
    if left and void:
        earned = {i: min(max(line.earned_minor, 0), line.amount_minor)
                  for i, line in enumerate(closure.lines)}
        if sum(earned.values()):
            lines += [(item(closure.lines[i]), f"Earned, voided: {closure.lines[i].description}",
                       share) for i, share in sorted(split_earned(left, earned).items())]
        else:  # no line to weigh it by (not itemized): it still comes out of deferred revenue
            lines.append((recurring_item, f"Voided: Stripe invoice {closure.invoice_billing_id}",
                          left))
    elif left:
        lines.append((BAD_DEBT_ITEM, f"Bad debt: Stripe invoice {closure.invoice_billing_id}",
                      left))
    if tax:
        lines.append((TAX_ITEM, f"Sales tax on the {done.replace(' ', '-')} invoice", tax))
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
