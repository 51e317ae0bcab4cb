"""The nightly reconciliation: the audit, run by the scheduler, its variances raised as
exceptions (kind `reconciliation`) so they reach the alerts channel in business words.

One exception per deal (and one for what belongs to no deal) carries every variance found on it;
the next run refreshes it, and a run that finds the deal's books agreeing again resolves it, which
closes its alert. Deals still in flight are left for the next run: a step pending or running,
or a change in the CRM that intake has not read yet (a difference there is most likely work
that hasn't finished).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from storage.db import transaction
from storage.tables import Deal, SyncException, WorkItem
from sync.engine import exceptions
from sync.engine.intake import cursor_value
from sync.engine.runtime import Runtime
from sync.ops.audit import run_audit
from sync.ops.audit_variance import Variance
from sync.ops.tieout import keep

SHOWN = 3  # variances spelled out in an alert; the rest are counted (all are in the detail)
NOT_RAISED = ("unalerted_exception",)  # about alerts themselves, which this job makes


def run_reconciliation(rt: Runtime) -> Counter[str]:
    report = run_audit(rt, require_alerts=False)
    counts: Counter[str] = Counter(checked=report.opportunities)
    with transaction(rt.sessions) as session:
        in_flight = set(session.scalars(select(WorkItem.opportunity_id).where(
            WorkItem.status.in_(("pending", "running")))))
        read_up_to = cursor_value(session)
        in_flight |= {opp for opp, changed in report.crm_modified.items()
                      if read_up_to is None or (changed is not None and changed > read_up_to)}
        by_deal: dict[str | None, list[Variance]] = defaultdict(list)
        for v in report.failing:
            if v.kind in NOT_RAISED:
                continue
            if v.opportunity_id in in_flight:
                counts["in_flight"] += 1
                continue
            by_deal[v.opportunity_id].append(v)
        for opp, found in by_deal.items():
            deal = session.get(Deal, opp) if opp else None
            exceptions.raise_exception(
                session, opportunity_id=opp, kind=exceptions.RECONCILIATION,
                reason=_reason(deal.name if deal else None, found),
                detail="\n".join(v.line() for v in found)[:20_000],
            )
            counts["raised"] += 1
            counts["variances"] += len(found)
        for exc in session.scalars(select(SyncException).where(
                SyncException.kind == exceptions.RECONCILIATION,
                SyncException.status == exceptions.OPEN)):
            if exc.opportunity_id not in by_deal and exc.opportunity_id not in in_flight:
                exceptions.resolve(session, opportunity_id=exc.opportunity_id,
                                   kinds=[exceptions.RECONCILIATION],
                                   resolution="the books agree again at the nightly "
                                   "reconciliation")
                counts["resolved"] += 1
        keep(session, report.totals, [v for found in by_deal.values() for v in found],
             entities=report.entities)
    return counts


def _reason(deal: str | None, found: list[Variance]) -> str:
    head = (f"The books disagree for {deal}: " if deal else
            "The books disagree outside any one deal: ")
    # The deal is named once, up front, not again in each of its variances.
    shown = "; ".join(v.reason.removeprefix(f"{deal}: ").removeprefix(f"{deal}, ")
                      for v in found[:SHOWN])
    more = len(found) - SHOWN
    return head + shown + (f"; and {more} more difference{'s' if more > 1 else ''}"
                           if more > 0 else "")
