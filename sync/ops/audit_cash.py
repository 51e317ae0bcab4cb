"""The cash part of `closebot audit`: the cash audit's findings (`sync.cash.audit`) as
variances, with Stripe's side and the ERP's side of each."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from sync.cash.run import cash_findings
from sync.errors import TransientError
from sync.ops.audit_variance import Found, Side
from sync.ports_cash import CashPorts

ATTEMPTS = 4


def check_cash(found: Found, cash: CashPorts, sessions: sessionmaker[Session],
               erp_name: str, figures: dict[str, dict[str, int]] | None = None) -> int:
    """Add a variance per finding; returns how many payouts and balances were checked.
    `figures` receives Stripe's balance and Clearing per currency."""
    for attempt in range(ATTEMPTS):
        try:
            findings = cash_findings(cash.reads, cash.erp, sessions, figures=figures)
            break
        except TransientError as exc:  # read again: the audit reads, it changes nothing
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(min(exc.retry_after or 0.5 * 2 ** attempt, 5.0))
    for f in findings:
        stripe_side = ("the payout's balance transactions, net" if f.kind == "payout_not_settled"
                       else "balance, available and pending")
        found.add(f.kind, f.reason, sides=(
            Side("Stripe", stripe_side, f.stripe_minor, f.currency, f.subject),
            Side(erp_name, "Stripe Clearing", f.erp_minor, f.currency),
        ), difference=f.erp_minor - f.stripe_minor, currency=f.currency)
    return len(findings)
