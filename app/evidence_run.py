"""Composing the evidence: closebot's database for the rows, every system for the audit, Slack
for people's names. Only the database is required; a system that can't be reached leaves the
audit "not run" with the reason, and the evidence says so."""

from __future__ import annotations

import logging

from app.doctor import missing_sqlite_file
from app.settings import Settings
from app.wiring import NotConfigured, build_runtime, open_database
from storage.db import transaction
from storage.timeutil import utcnow
from sync.ops.audit import AuditReport, run_audit
from sync.ops.evidence import Period, collect
from sync.ops.evidence_pdf import to_pdf
from sync.ops.evidence_report import AuditOutcome, Evidence, to_csv

log = logging.getLogger("closebot.evidence")


class NoDatabase(RuntimeError):
    """There is no closebot database where DATABASE_URL points, so nothing to give evidence of."""


def make_evidence(settings: Settings, period: Period, fmt: str, *,
                  require_alerts: bool = True) -> tuple[Evidence, bytes]:
    if (missing := missing_sqlite_file(settings.database_url)) is not None:
        raise NoDatabase(f"No closebot database at {missing}: run this where closebot runs, or "
                         "set DATABASE_URL to its database.")
    _, sessions = open_database(settings)
    with transaction(sessions) as session:
        rows = collect(session, period, erp=settings.erp)

    def audit() -> AuditReport:
        try:
            rt = build_runtime(settings, sessions)
        except NotConfigured as missing:
            raise RuntimeError(f"{missing} (see closebot config check)") from missing
        return run_audit(rt, require_alerts=require_alerts)

    document = Evidence(period=period, generated_at=utcnow(), erp=settings.erp, rows=rows,
                        audit=AuditOutcome.of(audit, utcnow()),
                        names=_names(settings, sorted({r.who for r in rows})))
    body = to_pdf(document) if fmt == "pdf" else to_csv(document).encode("utf-8")
    return document, body


def _names(settings: Settings, user_ids: list[str]) -> dict[str, str]:
    """Slack names for the people in the evidence; IDs alone when Slack can't say."""
    if not settings.slack_bot_token or not user_ids:
        return {}
    from slack_sdk.errors import SlackApiError

    from app.slack_client import make_client

    client = make_client(settings)
    names: dict[str, str] = {}
    for user_id in user_ids:
        if user_id[:1] not in ("U", "W"):
            continue
        try:
            user = client.users_info(user=user_id)["user"]
        except (SlackApiError, OSError) as error:
            log.warning("no Slack name for %s: %s", user_id, error)
            continue
        profile = user.get("profile") or {}
        names[user_id] = str(profile.get("real_name") or user.get("real_name") or user_id)
    return names
