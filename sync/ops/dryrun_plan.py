"""A dry run's answer, per deal and per system, in the words and number formats finance reads
(`USD 120,000.00`, field labels rather than API names), for the CLI, JSON and Slack alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import links
from storage.db import transaction
from storage.tables import Deal, IdLink, SyncException
from sync.contracts.entities import Entities
from sync.contracts.validation import Problem, check_deal
from sync.engine.intake import source_hash
from sync.money import MoneyError, format_money, to_minor
from sync.ops.recording import Intended, Recorder
from sync.ports import DealRecord

SYSTEMS = {"stripe": "Stripe", "ledger": "Ledger", "netsuite": "NetSuite",
           "salesforce": "Salesforce"}
OUTCOMES = {"sync": "would sync", "approval": "needs approval", "invalid": "fails validation",
            "failed": "would fail", "unchanged": "nothing to do"}


@dataclass(frozen=True)
class PlannedRecord:
    system: str
    action: str  # create | update | use existing
    kind: str
    id: str
    title: str
    phase: str  # now | after approval
    amount: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    details: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # (label, value) for a CRM update


@dataclass(frozen=True)
class DealPlan:
    opportunity_id: str
    name: str
    amount: str | None
    outcome: str  # sync | approval | invalid | failed | unchanged
    problems: list[str] = field(default_factory=list)
    approval: list[str] = field(default_factory=list)
    records: list[PlannedRecord] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return OUTCOMES[self.outcome]


@dataclass(frozen=True)
class DryRun:
    deals: list[DealPlan]
    missing: list[str]  # asked-for opportunities the CRM has no closed-won deal for

    @property
    def ok(self) -> bool:
        return not self.missing and all(d.outcome not in ("invalid", "failed")
                                        for d in self.deals)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": True, "changed": False, "ok": self.ok, "missing": self.missing,
                "deals": [{**asdict(d), "verdict": d.verdict,
                           "records": [{**asdict(r), "fields": dict(r.fields)}
                                       for r in d.records]} for d in self.deals]}


def summarize(scratch: sessionmaker[Session], deals: Sequence[DealRecord], *,
              before: dict[str, str], held: dict[str, list[str]], recorder: Recorder,
              missing: list[str], required: tuple[str, ...],
              entities: Entities | None = None) -> DryRun:
    with transaction(scratch) as session:
        plans = [_deal(session, deal, before, held, recorder, required,
                       entities or Entities()) for deal in deals]
    return DryRun(deals=plans, missing=missing)


def _deal(session: Session, deal: DealRecord, before: dict[str, str],
          held: dict[str, list[str]], recorder: Recorder, required: tuple[str, ...],
          entities: Entities) -> DealPlan:
    opp = deal.opportunity_id
    row = session.get(Deal, opp)
    name = row.name if row else str(deal.fields.get("Name") or opp)
    amount = (format_money(row.amount_minor, row.currency)
              if row and row.amount_minor is not None and row.currency else None)
    intended = [i for i in recorder.intended if i.opportunity_id == opp]
    failures = list(session.scalars(select(SyncException.reason).where(
        SyncException.opportunity_id == opp, SyncException.status == "open",
        SyncException.kind != "validation")))
    problems = [p.message for p in check_deal(deal, required)]
    if isinstance(entity := entities.resolve(deal.fields), Problem):
        problems.append(entity.message)
    if problems:
        outcome = "invalid"
    elif failures:
        outcome, problems = "failed", failures
    elif opp in held:
        outcome = "approval"
    elif before.get(opp) == source_hash(deal):
        outcome = "unchanged"
    else:
        outcome = "sync"
    records = [] if outcome == "invalid" else _existing(session, row)
    names = {"opportunity": name, "account": (row.account_name if row else None) or ""}
    records += _records(intended, row.currency if row else None, names)
    order = {"stripe": 0, "salesforce": 2}
    records.sort(key=lambda r: (r.phase != "now", order.get(r.system.lower(), 1)))
    return DealPlan(opp, name, amount, outcome, problems, held.get(opp, []), records)


def _existing(session: Session, row: Deal | None) -> list[PlannedRecord]:
    """Records the deal would use as they are: linked before (by closebot or the import)."""
    if row is None or not row.account_id:
        return []
    scopes = [links.account_scope(row.account_id)]
    if row.current_version:
        scopes.append(links.contract_scope(row.opportunity_id, row.current_version))
    found = session.execute(select(IdLink.system, IdLink.kind, IdLink.external_id)
                            .where(IdLink.scope.in_(scopes)).order_by(IdLink.id))
    return [PlannedRecord(SYSTEMS.get(system, system), "use existing", kind, external_id,
                          "already there", "now")
            for system, kind, external_id in found if "DRYRUN" not in external_id]


def _records(intended: list[Intended], currency: str | None,
             names: dict[str, str]) -> list[PlannedRecord]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    out: list[PlannedRecord] = []
    for i in intended:
        if i.system == "salesforce":
            key = (i.kind, i.ref, i.phase)
            if key not in merged:
                merged[key] = {}
                out.append(PlannedRecord("Salesforce", "update", i.kind, i.ref,
                                         names.get(i.kind) or i.title, i.phase))
            merged[key].update(i.fields)
            continue
        out.append(PlannedRecord(SYSTEMS.get(i.system, i.system), i.action, i.kind, i.ref,
                                 i.title, i.phase, i.amount, i.amount_minor, i.currency,
                                 i.details))
    return [r if r.system != "Salesforce" else PlannedRecord(
        r.system, r.action, r.kind, r.id, r.title, r.phase,
        fields=tuple((label(k), shown(v, currency))
                     for k, v in merged[(r.kind, r.id, r.phase)].items())) for r in out]


def label(api_name: str) -> str:
    """`Stripe_Customer_Id__c` → `Stripe Customer ID`: the field's label, as people see it."""
    words = api_name.removesuffix("__c").split("_")
    return " ".join("ID" if w == "Id" else "ERP" if w == "Erp" else w for w in words)


def shown(value: Any, currency: str | None) -> str:
    if value is None or value == "":
        return "(cleared)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal) and currency:
        try:
            return format_money(to_minor(value, currency), currency)
        except MoneyError:
            return f"{currency} {value}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
