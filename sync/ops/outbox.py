"""The durable Slack outbox: messages are rows first and Slack calls second.

Callers `enqueue` the content a key should show, inside their own transaction, so a decision and
the card update it causes commit together. `flush` later claims due rows (a conditional UPDATE to
`sending`, so two flushers never send the same row), posts or edits them, and records the `ts`.
When Slack is down or rate-limits, the row waits (honouring `Retry-After`) and is sent later.
A key is posted once; every later change is a `chat.update` of that message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.slack_tables import OutboxMessage
from storage.tables import Approval, SyncException
from storage.timeutil import aware, utcnow
from sync.dates import Seconds

log = logging.getLogger("closebot.outbox")
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
MAX_ATTEMPTS = 20


class Deferred(Exception):
    """Slack can't take the message now (outage, 429, timeout); try again later."""

    def __init__(self, message: str, *, retry_after: Seconds | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Undeliverable(Exception):
    """Slack refused for good (unknown channel, no such user): retrying would not help."""


class Sender(Protocol):
    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]],
             thread_ts: str | None) -> tuple[str, str]: ...

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None: ...

    def dm_channel(self, email: str) -> str: ...


def fingerprint(text: str, blocks: list[dict[str, Any]]) -> str:
    body = json.dumps([text, blocks], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def enqueue(session: Session, *, key: str, text: str, blocks: list[dict[str, Any]],
            channel: str | None = None, email: str | None = None, thread_ts: str | None = None,
            ref: str | None = None, state: str | None = None) -> OutboxMessage:
    """Make `key` show this content; a no-op when it already does."""
    digest = fingerprint(text, blocks)
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if row is None:
        try:
            with session.begin_nested():
                row = OutboxMessage(key=key, channel=channel, email=email, thread_ts=thread_ts,
                                    text=text, blocks=blocks, ref=ref, state=state,
                                    fingerprint=digest, status=PENDING, revision=1,
                                    sent_revision=0, attempts=0, next_attempt_at=utcnow())
                session.add(row)
            return row
        except IntegrityError:
            row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
            assert row is not None
    if row.fingerprint == digest:
        return row
    row.text, row.blocks, row.fingerprint, row.state = text, blocks, digest, state
    row.revision += 1
    if row.status in (SENT, DEAD):
        row.status, row.attempts, row.next_attempt_at = PENDING, 0, utcnow()
    session.flush()
    return row


def flush(sessions: sessionmaker[Session], sender: Sender, *, limit: int = 50,
          lease: timedelta = timedelta(seconds=60),
          now: Callable[[], datetime] = utcnow) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row_id in _claim(sessions, limit=limit, lease=lease, now=now()):
        counts[_deliver(sessions, sender, row_id, now)] += 1
    return counts


def _claim(sessions: sessionmaker[Session], *, limit: int, lease: timedelta,
           now: datetime) -> list[int]:
    due = or_(
        (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == SENDING) & (OutboxMessage.lease_until < now),
    )
    claimed: list[int] = []
    with transaction(sessions) as session:
        ids = session.scalars(select(OutboxMessage.id).where(due)
                              .order_by(OutboxMessage.id).limit(limit)).all()
        for row_id in ids:
            won = session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id, due)
                .values(status=SENDING, lease_until=now + lease)
            ).rowcount
            if won:
                claimed.append(row_id)
    return claimed


def _deliver(sessions: sessionmaker[Session], sender: Sender, row_id: int,
             now: Callable[[], datetime]) -> str:
    with transaction(sessions) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        snap = {c: getattr(row, c) for c in ("channel", "email", "thread_ts", "text", "blocks",
                                             "sent_channel", "ts", "revision", "attempts")}
    try:
        if snap["ts"]:
            sender.update(channel=snap["sent_channel"], ts=snap["ts"], text=snap["text"],
                          blocks=snap["blocks"])
            channel, ts = snap["sent_channel"], snap["ts"]
        else:
            target = snap["channel"] or sender.dm_channel(snap["email"])
            channel, ts = sender.post(channel=target, text=snap["text"], blocks=snap["blocks"],
                                      thread_ts=snap["thread_ts"])
    except Deferred as wait:
        return _retry_later(sessions, row_id, str(wait), wait.retry_after, snap["attempts"], now)
    except Undeliverable as refused:
        return _give_up(sessions, row_id, str(refused))
    with transaction(sessions) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.sent_channel, row.ts, row.sent_at = channel, ts, now()
        row.sent_revision, row.attempts, row.last_error = snap["revision"], 0, None
        row.lease_until = None
        row.status = SENT if row.revision == snap["revision"] else PENDING
        _link(session, row)
    return "sent"


def _retry_later(sessions: sessionmaker[Session], row_id: int, error: str,
                 retry_after: Seconds | None, attempts: int, now: Callable[[], datetime]) -> str:
    delay = retry_after if retry_after is not None else min(300.0, 2.0 * 2 ** attempts)
    with transaction(sessions) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.attempts += 1
        row.last_error = error[:2000]
        row.lease_until = None
        row.status = PENDING if row.attempts < MAX_ATTEMPTS else DEAD
        row.next_attempt_at = now() + timedelta(seconds=delay)
    log.warning("slack message %s deferred: %s", row_id, error)
    return "deferred"


def _give_up(sessions: sessionmaker[Session], row_id: int, error: str) -> str:
    with transaction(sessions) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.last_error, row.lease_until = DEAD, error[:2000], None
    log.error("slack message %s undeliverable: %s", row_id, error)
    return "dead"


def _link(session: Session, row: OutboxMessage) -> None:
    """Remember where an exception's alert or an approval's card lives."""
    kind, _, ident = (row.ref or "").partition(":")
    if not ident.isdigit() or not row.key.startswith(("alert:", "approval:")):
        return
    target = {"exception": SyncException, "approval": Approval}.get(kind)
    found = session.get(target, int(ident)) if target else None
    if isinstance(found, SyncException):
        found.alert_channel, found.alert_ts = row.sent_channel, row.ts
    elif isinstance(found, Approval):
        found.card_channel, found.card_ts = row.sent_channel, row.ts


def pending_count(session: Session) -> int:
    return len(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status.in_((PENDING, SENDING)))).all())


__all__ = ["Deferred", "Sender", "Undeliverable", "aware", "enqueue", "flush"]
