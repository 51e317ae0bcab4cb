"""The money audit's verdict on a chaos run: after faults and kills, the books tie out.

`closebot audit` compares every system in money (`sync.ops.audit_money`, `audit_invoices`,
`audit_books`); this reads its report for the run's figures: the variances that are about money
(not duplicate or missing records, which the run reports apart), by kind, and per currency the
totals the audit added up, with the ties that must hold to the cent:
- booked in Salesforce = billed by Stripe over the term (billed + still scheduled) = ordered in
  the ERP;
- open in Stripe = receivable in the ERP.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sync.ops.audit import AuditReport

# Record-level kinds: the chaos run counts them as duplicates, lost deals and unbalanced entries.
RECORD_KINDS = frozenset({
    "duplicate_customer", "duplicate_billing", "invoice_posted_twice", "erp_duplicate",
    "lost_deal", "unalerted_exception", "unbalanced_entry", "writeback_mismatch",
})


def ties(figures: dict[str, int], tolerance: int) -> dict[str, int]:
    """Each tie's difference in minor units (0 when it holds)."""
    def off(a: int, b: int) -> int:
        return 0 if abs(a - b) <= tolerance else a - b

    booked, billed = figures.get("booked", 0), figures.get("billed", 0)
    over_term = billed + figures.get("scheduled", 0)
    return {"booked_vs_billed_over_term": off(booked, over_term),
            "booked_vs_erp_orders": off(booked, figures.get("erp_orders", 0)),
            "stripe_open_vs_erp_receivable": off(figures.get("stripe_open", 0),
                                                 figures.get("erp_receivable", 0))}


def money_verdict(report: AuditReport) -> dict[str, Any]:
    variances = Counter(v.kind for v in report.failing if v.kind not in RECORD_KINDS)
    excused = Counter(v.kind for v in report.variances
                      if v.excused_by and v.kind not in RECORD_KINDS)
    currencies = {cur: {"totals": figures, "ties": ties(figures, report.tolerance_minor)}
                  for cur, figures in sorted(report.totals.items())}
    untied = sum(1 for c in currencies.values() for diff in c["ties"].values() if diff)
    return {"ok": not variances and not untied, "variances": dict(variances),
            "excused": dict(excused), "untied": untied, "currencies": currencies,
            "not_checked": report.not_checked}
