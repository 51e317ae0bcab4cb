"""Intake: poll closed-won deals incrementally and turn each into a contract version, an exception
or an approval request. Only a change in the deal's own terms makes a new contract version, so
re-reading a deal after closebot's own write-back (which bumps SystemModstamp) creates nothing."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit, queue
from storage.db import transaction
from storage.tables import Approval, ContractVersion, Cursor, Deal, SyncException, WorkItem
from storage.timeutil import aware
from sync.contracts.normalize import InvalidDeal, normalize
from sync.contracts.policy import review_reasons
from sync.contracts.terms import parse_decimal
from sync.contracts.validation import Problem
from sync.engine import exceptions, intake_guards, ssp
from sync.engine.runtime import Runtime, log
from sync.engine.work import billed_predecessor
from sync.model import Contract
from sync.money import MoneyError, to_minor
from sync.ports import DealRecord
from sync.revenue.allocation import MissingSsp, allocate

CURSOR = "crm.closed_won"


def run_intake(rt: Runtime) -> Counter[str]:
    counts: Counter[str] = Counter()
    with transaction(rt.sessions) as session:
        counts.update(reaccept_held(session, rt).values())
        row = session.get(Cursor, CURSOR)
        since = datetime.fromisoformat(row.value) - rt.config.intake_overlap if row else None
        held = ssp.held_ids(session)
    if held:
        _accept_page(rt, rt.crm.closed_won(held), counts)
    for page in rt.crm.closed_won_since(since):
        _accept_page(rt, page, counts, advance=True)
        counts["pages"] += 1
    return counts


def _accept_page(rt: Runtime, page: list[DealRecord], counts: Counter[str], *,
                 advance: bool = False) -> None:
    if not page:
        return
    with transaction(rt.sessions) as session:
        known = Known.load(session, [d.opportunity_id for d in page])
        for deal in page:
            counts[accept(session, rt, deal, known=known)] += 1
        known.flush(session)
        if advance:
            _advance_cursor(session, max(d.modstamp for d in page))


def _advance_cursor(session: Session, modstamp: datetime) -> None:
    row = session.get(Cursor, CURSOR, with_for_update=True)
    if row is None:
        session.add(Cursor(name=CURSOR, value=modstamp.isoformat()))
    elif datetime.fromisoformat(row.value) < modstamp:
        row.value = modstamp.isoformat()


def source_hash(deal: DealRecord) -> str:
    body = {"fields": deal.fields, "lines": deal.lines}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Known:
    """A page's deals and their latest contract versions, read in two queries, not two per deal."""

    deals: dict[str, Deal]
    latest: dict[str, ContractVersion]
    # Audit entries and new bill steps, written for the whole page at once by `flush`.
    audit: list[dict[str, Any]] = field(default_factory=list)
    bills: list[tuple[str, int, str, datetime]] = field(default_factory=list)

    def flush(self, session: Session) -> None:
        audit.append_many(session, self.audit)
        queue.arm_many(session, self.bills)
        self.audit, self.bills = [], []

    @classmethod
    def load(cls, session: Session, opportunity_ids: list[str]) -> Known:
        deals = {d.opportunity_id: d for d in session.scalars(
            select(Deal).where(Deal.opportunity_id.in_(opportunity_ids)))}
        latest: dict[str, ContractVersion] = {}
        for row in session.scalars(
            select(ContractVersion).where(ContractVersion.opportunity_id.in_(list(deals)))
        ):
            if row.opportunity_id not in latest or latest[row.opportunity_id].version < row.version:
                latest[row.opportunity_id] = row
        return cls(deals, latest)


def accept(session: Session, rt: Runtime, deal: DealRecord, *, known: Known | None = None) -> str:
    """Record one deal read from the CRM; returns what happened to it."""
    if known is None:
        known = Known.load(session, [deal.opportunity_id])
        try:
            return accept(session, rt, deal, known=known)
        finally:
            known.flush(session)
    digest = source_hash(deal)
    row = known.deals.get(deal.opportunity_id)
    if row is not None and row.source_hash == digest:
        return "unchanged"
    if row is None and not intake_guards.is_won(deal):
        return "not_won"  # lost before closebot ever took it in
    row = _upsert_deal(session, row, deal, digest)
    def erp() -> str:
        return rt.erp.name

    if not intake_guards.is_won(deal):
        return intake_guards.reopened(session, row, deal, erp=erp)
    intake_guards.settled_again(session, row)
    latest = known.latest.get(deal.opportunity_id)
    try:
        contract = normalize(
            deal, version=(latest.version + 1) if latest else 1,
            required=rt.config.required_fields, entities=rt.config.entities,
        )
        contract = allocate(contract, ssp.prices(session, deal.lines, contract.currency))
    except InvalidDeal as invalid:
        return _reject(session, row, invalid)
    except MissingSsp as missing:
        return _reject(session, row, InvalidDeal([Problem(ssp.SSP_FIELD, str(missing))]))
    if row.status == "exception":
        exceptions.resolve(session, opportunity_id=deal.opportunity_id, kinds=["validation"])
    if latest is not None and (held := intake_guards.currency_switch(
            session, row, contract, erp=erp)):
        return held
    if latest is not None and latest.terms_hash == contract.terms_hash():
        if row.status == "exception" and not _open_exceptions(session, row.opportunity_id):
            # It failed validation (or was reopened, or switched currency) before and now
            # passes: carry on where it stood.
            row.status, row.message = _status_after_fix(session, row)
        return "unchanged"
    return _new_version(session, rt, row, deal, contract, latest, known)


def reaccept_held(session: Session, rt: Runtime) -> dict[str, str]:
    """Accept again, from their stored intake, the deals held for a missing SSP once one is set
    (Salesforce didn't change, so its poll won't bring them back)."""
    done = {}
    for row in list(ssp.held_for_ssp(session)):
        raw = row.raw or {}
        deal = DealRecord(row.opportunity_id, aware(row.modstamp), raw.get("fields", {}),
                          raw.get("lines", []))
        row.source_hash = ""  # the terms didn't change; what they are allocated with did
        done[row.name] = accept(session, rt, deal)
    return done


def _upsert_deal(session: Session, row: Deal | None, deal: DealRecord, digest: str) -> Deal:
    f = deal.fields
    if row is None:
        row = Deal(opportunity_id=deal.opportunity_id, status="pending")
        session.add(row)
    currency = str(f.get("CurrencyIsoCode") or "").upper()[:3] or None
    row.name = str(f.get("Name") or deal.opportunity_id)[:255]
    row.account_id = f.get("AccountId")
    row.account_name = f.get("Account.Name")
    row.owner_email = f.get("Owner.Email")
    row.currency = currency
    row.amount_minor = _minor_or_none(f.get("Amount"), currency)
    row.source_hash = digest
    row.modstamp = deal.modstamp
    row.raw = json.loads(json.dumps({"fields": f, "lines": deal.lines}, default=str))
    return row


def _minor_or_none(value: Any, currency: str | None) -> int | None:
    amount = parse_decimal(value)
    if amount is None or not currency:
        return None
    try:
        minor = to_minor(amount, currency)
    except (ValueError, MoneyError):
        return None
    # A hostile Amount must not overflow the column; validation reports the deal anyway.
    return minor if abs(minor) < 2**63 else None


def _reject(session: Session, row: Deal, invalid: InvalidDeal) -> str:
    reasons = "; ".join(p.message for p in invalid.problems)
    row.status = "exception"
    row.message = f"Deal {row.name} can't be billed: {reasons}"
    exceptions.raise_exception(
        session,
        opportunity_id=row.opportunity_id,
        kind="validation",
        system="salesforce",
        reason=row.message,
        fields=sorted({p.field for p in invalid.problems}),
    )
    queue.arm(session, opportunity_id=row.opportunity_id, version=0, step="writeback")
    log.warning("deal %s (%s) failed validation: %s", row.opportunity_id, row.name, reasons,
                extra={"opportunity_id": row.opportunity_id, "deal": row.name})
    return "invalid"


def _open_exceptions(session: Session, opportunity_id: str) -> bool:
    return session.scalar(
        select(SyncException.id).where(
            SyncException.opportunity_id == opportunity_id, SyncException.status == "open",
            SyncException.kind != exceptions.RECONCILIATION,
        ).limit(1)
    ) is not None


def _status_after_fix(session: Session, row: Deal) -> tuple[str, str | None]:
    pending = session.scalar(
        select(Approval.id).where(
            Approval.opportunity_id == row.opportunity_id, Approval.status == "pending"
        )
    )
    if pending:
        return "awaiting_approval", None
    status = intake_guards.status_when_clear(session, row)
    if status == "synced":
        queue.arm(session, opportunity_id=row.opportunity_id, version=0, step="writeback")
    return status, None


def _new_version(
    session: Session,
    rt: Runtime,
    row: Deal,
    deal: DealRecord,
    contract: Contract,
    latest: ContractVersion | None,
    known: Known,
) -> str:
    session.add(
        ContractVersion(
            opportunity_id=contract.opportunity_id,
            version=contract.version,
            terms_hash=contract.terms_hash(),
            currency=contract.currency,
            total_minor=contract.total_minor,
            body=contract.model_dump(mode="json"),
        )
    )
    previous = None
    if latest is not None:
        _supersede(session, contract.opportunity_id, contract.version)
        billed = billed_predecessor(session, contract.opportunity_id, contract.version)
        previous = billed[0] if billed else None
    reasons = review_reasons(
        contract,
        limits=rt.config.limits,
        flagged=bool(deal.fields.get("Requires_Approval__c")),
        previous=previous,
        on=rt.now().date(),
    )
    row.current_version = contract.version
    row.message = None
    opp, version = contract.opportunity_id, contract.version
    known.audit.append({
        "action": "contract.version", "opportunity_id": opp,
        "subject": f"contract:{opp}:v{version}",
        "data": {"version": version, "total_minor": contract.total_minor,
                 "currency": contract.currency, "obligations": len(contract.obligations)},
    })
    if reasons:
        row.status = "awaiting_approval"
        session.add(
            Approval(
                kind=reasons[0].kind,
                subject=opp,
                opportunity_id=opp,
                contract_version=version,
                requested_by=contract.owner_email,
                reasons=[r.__dict__ for r in reasons],
                amount_minor=contract.total_minor,
                currency=contract.currency,
                payload={"customer": contract.customer.name, "deal": contract.name},
            )
        )
        queue.arm(session, opportunity_id=opp, version=version, step="bill", status=queue.HELD)
        queue.arm(session, opportunity_id=opp, version=version, step="writeback")
        return "awaiting_approval"
    row.status = "pending"
    known.bills.append((opp, version, "bill", rt.now()))
    return "accepted"


def _supersede(session: Session, opportunity_id: str, version: int) -> None:
    """Earlier versions that were never billed will not be: this version replaces them."""
    for item in session.scalars(
        select(WorkItem).where(
            WorkItem.opportunity_id == opportunity_id,
            WorkItem.contract_version < version,
            WorkItem.contract_version > 0,
            WorkItem.step == "bill",
            WorkItem.status.in_((queue.PENDING, queue.HELD, queue.EXCEPTION)),
        )
    ):
        item.status = queue.SUPERSEDED
    for approval in session.scalars(
        select(Approval).where(
            Approval.opportunity_id == opportunity_id,
            Approval.contract_version < version,
            Approval.status == "pending",
        )
    ):
        approval.status = "superseded"
        approval.version += 1
    exceptions.resolve(
        session, opportunity_id=opportunity_id, kinds=["bill"],
        resolution=f"superseded by contract version {version}",
    )


def cursor_value(session: Session) -> datetime | None:
    row = session.get(Cursor, CURSOR)
    return aware(datetime.fromisoformat(row.value)) if row else None
