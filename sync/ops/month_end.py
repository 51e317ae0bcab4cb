"""The month-end close as a Slack card: once a month has ended, a card asks two different
approvers to close it; the second approval posts the period's revenue and locks the period.

The card is an approval of kind `close` (subject `period:2026-11`), so it shares the approval
cards' guarantees: one decision per approver, a stale card refused, the requester (closebot)
not an approver. A rejection (with its reason) leaves the period open; the next run opens a new
card for it (the approval's version counts the attempts). The close itself runs after the
commit that approved it, and again from the scheduled run if that was interrupted: a period
closes once, and closing it again posts nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from storage import audit
from storage.db import transaction
from storage.tables import Approval
from sync.money import format_money
from sync.ops import outbox
from sync.ops.approvals import post_card
from sync.ops.surface import Deps
from sync.ports_revenue import ClosedPeriod, PeriodCloses

CLOSE = "close"
ERP_NAMES = {"netsuite": "NetSuite", "intacct": "Sage Intacct"}
PREFIX = "period:"


@dataclass(frozen=True)
class CloseRun:
    opened: str | None  # the period a new card was opened for
    closed: tuple[ClosedPeriod, ...]


def last_ended(today: date) -> tuple[str, date]:
    """The month before `today`'s, and its last day."""
    end = today.replace(day=1) - timedelta(days=1)
    return f"{end:%Y-%m}", end


def run(deps: Deps, closes: PeriodCloses, *, today: date) -> CloseRun:
    """The scheduled step: close what two people approved, then ask about the month just ended."""
    closed = apply_approved(deps, closes, today=today)
    return CloseRun(open_card(deps, closes, today=today), closed)


def open_card(deps: Deps, closes: PeriodCloses, *, today: date) -> str | None:
    period, end = last_ended(today)
    if closes.is_closed(period):
        return None
    due = closes.revenue_due(through=end)
    with transaction(deps.sessions) as session:
        asked = list(session.scalars(select(Approval.status).where(
            Approval.kind == CLOSE, Approval.subject == PREFIX + period)))
        if "pending" in asked or "approved" in asked:  # a card waits, or its close is due
            return None
        only = due[0] if len(due) == 1 else None
        ap = Approval(
            kind=CLOSE, subject=PREFIX + period, contract_version=len(asked),
            requested_by="closebot", reasons=[
                {"what": f"Revenue to recognize in {_month(end)}: "
                         f"{format_money(d.amount_minor, d.currency)} "
                         f"({d.entries} schedule lines)"} for d in due] or [
                {"what": f"No revenue is due in {_month(end)}; the close only locks it."}],
            payload={"period": period, "ends_on": end.isoformat(),
                     "due": [{"currency": d.currency, "amount_minor": d.amount_minor,
                              "entries": d.entries} for d in due]},
            amount_minor=only.amount_minor if only else None,
            currency=only.currency if only else None)
        session.add(ap)
        session.flush()
        audit.append(session, action="close.requested", actor="closebot",
                     subject=PREFIX + period, due=ap.payload["due"])
        post_card(session, deps, ap)
    return period


def apply_approved(deps: Deps, closes: PeriodCloses, *, today: date) -> tuple[ClosedPeriod, ...]:
    """Close every period two people approved and the books have not closed yet."""
    with transaction(deps.sessions) as session:
        approved = [(ap.id, ap.subject.removeprefix(PREFIX), _approvers(ap.decisions))
                    for ap in session.scalars(select(Approval).where(
                        Approval.kind == CLOSE, Approval.status == "approved"))]
    done = []
    for approval_id, period, by in sorted(approved, key=lambda a: a[1]):
        if closes.is_closed(period):
            continue
        try:
            report = closes.close_period(period=period, by=by, today=today)
        except Exception as refused:  # the books refused: say so once, retry on the next run
            _refused(deps, approval_id, period, str(refused))
            continue
        with transaction(deps.sessions) as session:
            audit.append(session, action="close.applied", actor=by, subject=PREFIX + period,
                         approval=approval_id, revenue_entries=report.posted,
                         ties=all(r.ties for r in report.roll_forward))
            ap = session.get(Approval, approval_id)
            text = "\n".join(report_lines(report))
            outbox.enqueue(session, key=f"close:{period}", channel=deps.channels.approvals,
                           thread_ts=ap.card_ts if ap else None, text=text,
                           blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                           ref=f"approval:{approval_id}")
        done.append(report)
    return tuple(done)


def _refused(deps: Deps, approval_id: int, period: str, reason: str) -> None:
    text = f"{period} was approved but could not be closed yet: {reason}. closebot tries again."
    with transaction(deps.sessions) as session:
        ap = session.get(Approval, approval_id)
        outbox.enqueue(session, key=f"close-refused:{period}", channel=deps.channels.approvals,
                       thread_ts=ap.card_ts if ap else None, text=text,
                       blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                       ref=f"approval:{approval_id}")


def report_lines(report: ClosedPeriod) -> list[str]:
    erp = ERP_NAMES.get(report.erp, report.erp)
    if report.erp == "ledger":
        out = [f"*{report.period} is closed* by {report.closed_by}: "
               f"{report.posted} revenue entries posted; nothing posts into it from now on."]
        books = "the general ledger"
    else:
        out = [f"*{report.period} is closed* by {report.closed_by}: {report.posted} revenue "
               f"schedule lines released; nothing posts into it from now on. In {erp}:"]
        out += [f"Journal entry {p.external_id}: "
                f"{format_money(p.amount_minor, p.currency)} over {p.lines} obligation lines, "
                f"dated {p.posted_on:%d %b %Y}" + (f" ({p.note})" if p.note else "") + "."
                for p in report.postings] or ["No revenue came due: no journal entry."]
        books = f"the {erp} general ledger"
        if report.postings and not report.roll_forward:
            out.append(f"Deferred revenue is not read from {erp}'s general ledger.")
    for r in report.roll_forward:
        m = functools.partial(format_money, currency=r.currency)
        tie = (f"ties to {books}" if r.ties
               else f"differs from {books} by {m(r.closing - r.ledger_balance)}")
        out.append(f"Deferred revenue {r.currency}: opening {m(r.opening)} + billings "
                   f"{m(r.billings)} - credits {m(r.credits)} - recognized {m(r.recognized)} "
                   f"= closing {m(r.closing)}, {tie}.")
    # The embedded ledger's month-end FX revaluation (ERP closes have none).
    for fx in getattr(report, "revaluation", ()):
        result = "gain" if fx.gain >= 0 else "loss"
        out.append(f"Unrealized FX on {fx.currency} balances at {fx.currency}/{fx.functional} "
                   f"{fx.rate}: {result} {format_money(abs(fx.gain), fx.functional)} over "
                   f"{fx.balances} balance{'s' if fx.balances != 1 else ''}, reversed the "
                   "next day.")
    return out


def _approvers(decisions: list[dict[str, object]]) -> str:
    return " and ".join(str(d["user"]) for d in decisions if d.get("decision") == "approved")


def _month(day: date) -> str:
    return f"{day:%B %Y}"
