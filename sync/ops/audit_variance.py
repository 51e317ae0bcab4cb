"""A variance: two systems (or two records of one) disagree, with the records on both sides.

Every check of the audit reports `Variance`s: a kind (what was compared), a reason in words a
finance reader acts on, and the sides (system, record, amount, currency). A variance a person
already has in hand (an open exception on the deal that explains it) is `excused`: listed, but it
does not fail the audit. Money is compared to the cent, within a tolerance in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.engine.exceptions import RECONCILIATION
from sync.money import format_money, from_minor

# Kinds that only say a system has not caught up yet; an open exception of the step that would
# catch it up excuses them. Every other kind means the books are wrong, whatever is open.
CATCH_UP: dict[str, frozenset[str]] = {
    "bill": frozenset({"contract_value", "stale_version"}),
    "post": frozenset({"invoice_not_posted", "invoiced_mismatch", "receivable_mismatch",
                       "erp_order_value", "crm_balance_mismatch", "crm_status_mismatch"}),
    "credit": frozenset({"invoiced_mismatch", "receivable_mismatch", "crm_balance_mismatch"}),
    "writeback": frozenset({"writeback_mismatch", "crm_balance_mismatch",
                            "crm_status_mismatch"}),
}
ALL_CATCH_UP = frozenset().union(*CATCH_UP.values())
# Changes in the CRM that a person must decide on (`sync.engine.intake_guards`): while one is
# open, Salesforce disagrees with what was billed on purpose, and the exception says so.
CATCH_UP |= {
    "currency_change": frozenset({"contract_value", "stale_version", "erp_order_value",
                                  "writeback_mismatch"}),
    "reopened": frozenset({"reopened_deal"}),
}


@dataclass(frozen=True)
class Side:
    system: str  # Salesforce, Stripe, the ledger, NetSuite, closebot
    record: str  # what the amount is, on which record: "invoice in_1 net of credit notes"
    amount_minor: int | None = None
    currency: str | None = None
    record_id: str | None = None  # the record's ID in that system, when there is one

    def to_dict(self) -> dict[str, Any]:
        amount = (str(from_minor(self.amount_minor, self.currency))
                  if self.amount_minor is not None and self.currency else None)
        return {"system": self.system, "record_id": self.record_id, "record": self.record,
                "amount": amount, "amount_minor": self.amount_minor, "currency": self.currency}


@dataclass(frozen=True)
class Variance:
    kind: str
    reason: str
    opportunity_id: str | None = None
    sides: tuple[Side, ...] = ()
    difference_minor: int | None = None
    currency: str | None = None
    excused_by: str | None = None

    def line(self) -> str:
        excuse = f" (known: {self.excused_by})" if self.excused_by else ""
        return f"{self.kind}: {self.reason}{excuse}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "reason": self.reason, "opportunity_id": self.opportunity_id,
            "difference_minor": self.difference_minor, "currency": self.currency,
            "difference": money(self.difference_minor, self.currency)
            if self.difference_minor is not None else None,
            "excused_by": self.excused_by, "sides": [s.to_dict() for s in self.sides],
        }


def money(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return "nothing"
    if not currency:
        return str(minor)
    try:
        return format_money(minor, currency)
    except ValueError:
        return f"{currency} {minor} (minor units)"


@dataclass
class Found:
    """Variances as the checks find them, with the tolerance they compare within."""

    tolerance: int = 0
    variances: list[Variance] = field(default_factory=list)

    def differs(self, a: int, b: int) -> bool:
        return abs(a - b) > self.tolerance

    def add(self, kind: str, reason: str, *, opp: str | None = None, sides: tuple[Side, ...] = (),
            difference: int | None = None, currency: str | None = None) -> None:
        self.variances.append(Variance(kind, reason, opp, sides, difference, currency))

    def compare(self, kind: str, a: Side, b: Side, reason: str, *, opp: str | None) -> None:
        """Record a variance when the two sides' amounts differ beyond the tolerance."""
        x, y = a.amount_minor or 0, b.amount_minor or 0
        if self.differs(x, y):
            self.add(kind, reason, opp=opp, sides=(a, b), difference=x - y,
                     currency=a.currency or b.currency)


def excuse(variances: list[Variance], open_kinds: dict[str, list[tuple[int, str]]]
           ) -> list[Variance]:
    """Mark the variances an open exception on their deal already explains."""
    out = []
    for v in variances:
        reason = None
        for exc_id, kind in open_kinds.get(v.opportunity_id or "", []):
            if kind == RECONCILIATION:
                continue  # the reconciliation's own exception never excuses what raised it
            if v.kind in CATCH_UP.get(kind, ALL_CATCH_UP):
                reason = f"exception {exc_id} ({kind}) is open on this deal"
                break
        out.append(Variance(v.kind, v.reason, v.opportunity_id, v.sides, v.difference_minor,
                            v.currency, reason) if reason else v)
    return out
