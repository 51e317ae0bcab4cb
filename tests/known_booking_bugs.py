"""Variances the money audit finds in today's booking of the demo book, owned by the booking
work of issue 9 (section 2), which will make them disappear.

The demo's Acme deal is a 10-month contract billed annually: Stripe's subscription period and
`cancel_at` run 12 months, two months past the contract's end ("Why", case 6). A test that audits
the demo book expects exactly that one variance, so the day the booking bills the 10-month
service period, that test fails and its expectation becomes a clean audit.
"""

from __future__ import annotations

from sync.ops.audit import AuditReport
from sync.ops.audit_variance import Variance


def split_known(report: AuditReport, acme_opportunity: str) -> tuple[list[Variance], list[str]]:
    """(Acme's billing-past-the-term variance, every other failing variance's line)."""
    known = [v for v in report.failing
             if v.kind == "billing_past_term" and v.opportunity_id == acme_opportunity]
    return known, [v.line() for v in report.failing if v not in known]
