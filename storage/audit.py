"""The append-only audit log (UPDATE and DELETE are refused by database triggers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage.tables import AuditEntry
from storage.timeutil import utcnow


def append(
    session: Session,
    *,
    action: str,
    actor: str = "closebot",
    opportunity_id: str | None = None,
    subject: str | None = None,
    **data: Any,
) -> None:
    session.execute(
        _INSERT,
        {"actor": actor, "action": action, "opportunity_id": opportunity_id,
         "subject": subject, "data": data, "at": utcnow()},
    )


def append_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Several entries in one statement: each {action, opportunity_id, subject, data, actor?}."""
    if entries:
        now = utcnow()
        session.execute(
            _INSERT,
            [{"actor": "closebot", "at": now, **entry} for entry in entries],
        )


_INSERT = insert(AuditEntry)


APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}
