"""The dry run: what a sync of some deals would create in the billing system, post to the ERP
and write back to the CRM, worked out by the engine itself (intake → validation →
normalization → policy → bill → post → write-back) with recording connectors, against a scratch
copy of closebot's bookkeeping. Nothing changes anywhere: the CRM, billing and ERP connectors
are only read from, and closebot's own database only copied from.

A deal that needs an approval is shown as it stands now and, in a second phase, as if approved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from storage import links, queue
from storage.db import transaction
from storage.scratch import copy_deals, scratch_database
from storage.tables import Approval, Cursor, Deal, WorkItem
from sync.engine.intake import CURSOR, run_intake
from sync.engine.runtime import Runtime
from sync.engine.telemetry import correlation, unmetered
from sync.engine.worker import run_until_idle
from sync.ops.dryrun_plan import DryRun, summarize
from sync.ops.recording import Recorder, RecordingCrm, RecordingErp
from sync.ops.recording_billing import RecordingBilling
from sync.ops.surface import BadInput
from sync.ports import DealRecord

MAX_ROUNDS = 20
_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def find_deal(rt: Runtime, text: str) -> str:
    """An opportunity ID as given, or the one deal whose name matches `text` in the CRM."""
    query = text.strip()
    if not query:
        raise BadInput("Name the deal: an opportunity ID or its name.")
    if _SALESFORCE_ID.match(query) and any(c.isdigit() for c in query):
        return query
    search = getattr(rt.crm, "find_opportunities", None)
    found = search(query, limit=10) if search is not None else []
    exact = [r for r in found if str(r.get("Name") or "").lower() == query.lower()]
    if len(exact) == 1 or len(found) == 1:
        return str((exact or found)[0]["Id"])
    if not found:
        raise BadInput(f"No opportunity in Salesforce matches “{query}”.")
    names = "; ".join(f"{r.get('Name')} ({r['Id']})" for r in found[:5])
    raise BadInput(f"Several opportunities match “{query}”: {names}. Give one ID.")


def dry_run(rt: Runtime, *, opportunity_ids: Sequence[str] = (),
            source: sessionmaker[Session] | None = None) -> DryRun:
    """What a sync of these deals (or, with none given, of every deal the next intake would
    read) would do. `source` is closebot's database, or None when it has none yet. No metric
    counts it, and every log line it causes says `dry_run`."""
    with unmetered(), correlation(job="dry-run", dry_run=True):
        return _dry_run(rt, opportunity_ids, source)


def _dry_run(rt: Runtime, opportunity_ids: Sequence[str],
             source: sessionmaker[Session] | None) -> DryRun:
    deals = (rt.crm.closed_won(list(opportunity_ids)) if opportunity_ids
             else _next_intake(rt, source))
    missing = [o for o in opportunity_ids if o not in {d.opportunity_id for d in deals}]
    with scratch_database() as scratch:
        if source is not None and deals:
            accounts = {str(d.fields.get("AccountId")) for d in deals if d.fields.get("AccountId")}
            copy_deals(source, scratch, [d.opportunity_id for d in deals],
                       [links.account_scope(a) for a in sorted(accounts)])
        before = _known(scratch)
        recorder = Recorder(rt.now)
        scratch_rt = Runtime(
            config=replace(rt.config, max_attempts=1), sessions=scratch,
            crm=RecordingCrm(rt.crm, deals, recorder),
            billing=RecordingBilling(rt.billing, recorder),
            erp=RecordingErp(rt.erp, recorder), worker_id="dry-run", now=rt.now,
            # Each legal entity's own Stripe account and subsidiary, recorded the same way.
            entity_billing={name: RecordingBilling(b, recorder)
                            for name, b in rt.entity_billing.items()},
            entity_erp={name: RecordingErp(e, recorder) for name, e in rt.entity_erp.items()})
        run_intake(scratch_rt)
        _drain(scratch_rt)
        held = _approve_held(scratch_rt, [d.opportunity_id for d in deals])
        if held:
            recorder.phase = "after approval"
            _drain(scratch_rt)
        return summarize(scratch, deals, before=before, held=held, recorder=recorder,
                         missing=missing, required=rt.config.required_fields,
                         entities=rt.config.entities)


def _next_intake(rt: Runtime, source: sessionmaker[Session] | None) -> list[DealRecord]:
    since: datetime | None = None
    if source is not None:
        with source() as session:
            row = session.get(Cursor, CURSOR)
            if row is not None:
                since = datetime.fromisoformat(row.value) - rt.config.intake_overlap
            session.rollback()
    return [deal for page in rt.crm.closed_won_since(since) for deal in page]


def _known(scratch: sessionmaker[Session]) -> dict[str, str]:
    """Each copied deal's source hash: an unchanged deal makes no new contract version."""
    with transaction(scratch) as session:
        return dict(session.execute(select(Deal.opportunity_id, Deal.source_hash)).all())


def _drain(rt: Runtime) -> None:
    """Run the queue until nothing is left; steps waiting for later (the write-back runs a
    little after billing) are brought forward, since no time passes in a dry run."""
    for _ in range(MAX_ROUNDS):
        run_until_idle(rt)
        with transaction(rt.sessions) as session:
            waiting = session.execute(
                update(WorkItem).where(WorkItem.status == queue.PENDING)
                .values(next_attempt_at=rt.now())).rowcount
        if not waiting:
            return


def _approve_held(rt: Runtime, opportunity_ids: list[str]) -> dict[str, list[str]]:
    """Approve every deal approval in the scratch copy as a person would in Slack (which arms
    the bill step again), and return the reasons each deal was held for."""
    held: dict[str, list[str]] = {}
    with transaction(rt.sessions) as session:
        for ap in session.scalars(select(Approval).where(
                Approval.status == "pending", Approval.kind != "credit",
                Approval.opportunity_id.in_(opportunity_ids))):
            opp = str(ap.opportunity_id)
            held.setdefault(opp, []).extend(str(r.get("what")) for r in ap.reasons)
            ap.status = "approved"
            queue.arm(session, opportunity_id=opp, version=ap.contract_version, step="bill")
            queue.arm(session, opportunity_id=opp, version=ap.contract_version,
                      step="writeback")
            deal = session.get(Deal, opp)
            if deal is not None:
                deal.status, deal.message = "pending", None
    return held
