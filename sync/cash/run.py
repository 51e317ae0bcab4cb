"""One cash run: every payout reconciled, what couldn't be booked kept as a cash exception (one
per billing object, refreshed while it recurs, resolved once a later run books it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ops_tables import CashException
from storage.timeutil import utcnow
from sync.cash.audit import CashFinding, audit_cash
from sync.cash.customers import BilledCustomers, PaidInErp
from sync.cash.facts import RecordingErp, RecordingReads, dispute_fact, payout_fact, save
from sync.cash.payouts import CashProblem, book_dispute, reconcile_payouts
from sync.ports_cash import CashDispute, CashErp, CashReads

OPEN, RESOLVED = "open", "resolved"
DISPUTE_DAYS = 120


@dataclass
class CashRun:
    payouts: int = 0
    settled: int = 0
    transactions: int = 0
    problems: list[CashProblem] = field(default_factory=list)


def record(session: Session, scope: str, problems: Sequence[CashProblem]) -> None:
    """Open (or refresh) an exception per problem of `scope` (a payout or a dispute); resolve
    those of the same scope that no longer recur."""
    now = utcnow()
    current = {p.subject: p for p in problems}
    for row in session.scalars(select(CashException).where(
            CashException.payout_id == scope, CashException.status == OPEN)):
        if row.subject not in current:
            row.status, row.resolved_at, row.updated_at = RESOLVED, now, now
    for problem in current.values():
        row = session.get(CashException, problem.subject)
        if row is None:
            session.add(CashException(subject=problem.subject, payout_id=scope,
                                      reason=problem.reason, status=OPEN, created_at=now,
                                      updated_at=now))
        else:
            row.payout_id, row.reason, row.status, row.updated_at = scope, problem.reason, OPEN, now
            row.resolved_at = None


def run_cash(
    reads: CashReads, erp: CashErp, sessions: sessionmaker[Session], *,
    arrival_gte: date | None = None,
) -> CashRun:
    """Disputes first, so a dispute's withdrawal and its outcome are booked when they happen,
    not only when a payout carries them; then every payout arriving since `arrival_gte`."""
    run, customers = CashRun(), BilledCustomers(sessions)
    recording = RecordingErp(erp)
    seen = RecordingReads(reads, recording.notes, customers)
    # A card network takes up to ~75 days to decide: look back further for disputes.
    opened = arrival_gte - timedelta(days=DISPUTE_DAYS) if arrival_gte else None
    for dispute in reads.disputes(created_gte=opened):
        today = dispute.closed_on or dispute_today(dispute)
        problems = book_dispute(recording, dispute, today=today)
        with transaction(sessions) as session:
            _keep(session, recording, dispute, problems, today=today)
        run.problems.extend(problems[:100 - len(run.problems)])
    for outcome in reconcile_payouts(seen, recording, arrival_gte=arrival_gte,
                                     customers=customers, paid=PaidInErp(sessions)):
        payout = recording.notes.payouts.get(outcome.payout_id)
        settled = [payout_fact(payout)] if outcome.settled and payout else []
        with transaction(sessions) as session:
            record(session, outcome.payout_id, outcome.problems)
            save(session, [*recording.take(), *settled])
        run.payouts += 1
        run.settled += outcome.settled
        run.transactions += outcome.transactions
        run.problems.extend(outcome.problems[:100 - len(run.problems)])
    return run


def _keep(
    session: Session, recording: RecordingErp, dispute: CashDispute,
    problems: Sequence[CashProblem], *, today: date,
) -> None:
    """A dispute's exceptions, and, once it is booked, its status for the deal's CRM record."""
    record(session, dispute.id, problems)
    booked = None if problems else dispute_fact(dispute, today=today)
    save(session, [*recording.take(), *([booked] if booked else [])])


def dispute_today(dispute: CashDispute) -> date:
    return max((t.created_on for t in dispute.withdrawals), default=date.today())


def on_dispute(
    reads: CashReads, erp: CashErp, sessions: sessionmaker[Session], dispute_id: str, *,
    today: date,
) -> list[CashProblem]:
    """A `charge.dispute.*` event: book the dispute as Stripe has it now."""
    recording = RecordingErp(erp)
    dispute = reads.dispute(dispute_id)
    problems = book_dispute(recording, dispute, today=today)
    with transaction(sessions) as session:
        _keep(session, recording, dispute, problems, today=today)
    return problems


def open_exceptions(sessions: sessionmaker[Session]) -> list[CashException]:
    with sessions() as session:
        return list(session.scalars(
            select(CashException).where(CashException.status == OPEN)
            .order_by(CashException.created_at)))


def cash_findings(
    reads: CashReads, erp: CashErp, sessions: sessionmaker[Session], *, since: date | None = None,
    figures: dict[str, dict[str, int]] | None = None,
) -> list[CashFinding]:
    """The cash audit (`sync.cash.audit`) with closebot's billed customers; `figures` receives
    Stripe's balance and Clearing per currency."""
    return list(audit_cash(reads, erp, since=since, customers=BilledCustomers(sessions),
                           figures=figures))
