"""The three-way tie-out the daily digest shows: Salesforce bookings, Stripe billings, the ERP's
invoices and deposits, and Stripe's balance against the Clearing account, per currency.

The figures are the money audit's (`sync.ops.audit_money`, `sync.cash.audit`), kept by the
nightly reconciliation in the audit log as it found them, so the digest computes nothing again
and shows what the reconciliation raised; each variance keeps the records on both sides.
Deposits are the payouts the cash run booked (Dr Cash / Cr Clearing) and, of those, what a bank
statement line was matched to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import audit
from storage.bank_tables import BankLineRow
from storage.ops_tables import CashFact
from storage.tables import AuditEntry
from sync.ops.audit_variance import Variance

ACTION = "reconciliation"
KEPT = 20  # variances kept with the figures; the reconciliation's exceptions hold them all


@dataclass(frozen=True)
class Tieout:
    at: datetime
    totals: dict[str, dict[str, int]]  # currency → figure → minor units
    deposits: dict[str, tuple[int, int]]  # currency → (payouts booked, of which in the bank)
    variances: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0
    # Per legal entity (when deals carry one): its figures per currency and its variance count.
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)


def keep(session: Session, totals: dict[str, dict[str, int]], failing: list[Variance], *,
         entities: dict[str, dict[str, Any]] | None = None) -> None:
    """Store a reconciliation's figures and variances (with their records) for the digest."""
    extra = {"entities": entities} if entities else {}
    audit.append(session, action=ACTION, subject="books", totals=totals, more=max(
        0, len(failing) - KEPT), variances=[_variance(v) for v in failing[:KEPT]], **extra)


def _variance(v: Variance) -> dict[str, Any]:
    return {"kind": v.kind, "reason": v.reason, "opportunity_id": v.opportunity_id,
            "records": [f"{s.system} {s.record_id}" for s in v.sides if s.record_id]}


def latest(session: Session) -> Tieout | None:
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == ACTION)
                           .order_by(AuditEntry.id.desc()).limit(1))
    if entry is None:
        return None
    booked = dict(session.execute(
        select(CashFact.currency, func.sum(CashFact.amount_minor))
        .where(CashFact.kind == "payout").group_by(CashFact.currency)).all())
    banked = dict(session.execute(
        select(CashFact.currency, func.sum(CashFact.amount_minor))
        .join(BankLineRow, BankLineRow.payout_id == CashFact.object_id)
        .where(CashFact.kind == "payout").group_by(CashFact.currency)).all())
    deposits = {cur: (int(amount or 0), int(banked.get(cur) or 0))
                for cur, amount in booked.items()}
    data = entry.data or {}
    return Tieout(at=entry.at, totals=data.get("totals") or {}, deposits=deposits,
                  variances=list(data.get("variances") or []), more=int(data.get("more") or 0),
                  entities=dict(data.get("entities") or {}))
