"""A void's revenue reversal in NetSuite or Sage Intacct, against closebot's subledger.

On those ERPs the revenue a close released is in closebot's journal entries, so a void that
takes revenue back is booked twice over: the ERP's own void of what was open on the invoice, and
closebot's entry `closebot-reversal-<invoice>:void` for the revenue the subledger's void
reversed; after a write-off that is the write-off's bad debt, moved back to revenue and reversed
(`sync/ledger/erp_reversals.py`). Without the entry the ERP keeps revenue the subledger took
back, and after a write-off the bad debt too, while every invoice and receivable ties out. So
each void's entry must debit revenue by what the subledger's void reversed.
"""

from __future__ import annotations

from sync.ops.audit_variance import Found, Side, money
from sync.ports import PostedReversal, SubledgerVoid


def check_reversals(found: Found, voids: list[SubledgerVoid], posted: list[PostedReversal],
                    erp: str, deals: dict[str, str | None]) -> None:
    """`deals`: each billing invoice's opportunity."""
    entries = {p.external_id: p for p in posted}
    for void in voids:
        ext, cur = void.reversal_id, void.currency
        entry = entries.get(ext)
        in_erp = entry.revenue_minor if entry else 0
        expected = money(void.revenue_minor, cur)
        if void.bad_debt_minor:
            what = (f"invoice {void.invoice} was voided after its write-off: the subledger "
                    f"moved {money(void.bad_debt_minor, cur)} of bad debt back to revenue and "
                    f"reversed {expected} of revenue")
            kept = "that revenue and bad debt"
        else:
            what = (f"invoice {void.invoice} was voided: the subledger reversed {expected} of "
                    "revenue")
            kept = "that revenue"
        found.compare(
            "void_reversal_mismatch",
            Side(erp, f"revenue debited by journal entry {ext}", in_erp, cur, ext),
            Side("closebot", f"revenue the subledger's void of invoice {void.invoice} reversed",
                 void.revenue_minor, cur, void.invoice),
            f"{what}, but {erp} has no reversal entry {ext}, so it still holds {kept}"
            if entry is None else
            f"{what}, but {erp}'s reversal entry {ext} debits {money(in_erp, cur)} of revenue",
            opp=deals.get(void.invoice))
