"""Cash exceptions in front of people: while any money movement in Stripe can't be booked
(`sync.cash.run`), one open exception of kind `cash` says how many and what the first is, so
the alert sweep posts it to Slack like any other; it resolves once none is left."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from sync.cash.run import open_exceptions
from sync.engine.exceptions import raise_exception, resolve

KIND = "cash"
NAMED = 10  # subjects named in the detail; the cash exceptions table has them all


def surface(sessions: sessionmaker[Session]) -> int:
    """Open, refresh or resolve the `cash` exception; returns how many are open."""
    found = open_exceptions(sessions)
    with transaction(sessions) as session:
        if not found:
            resolve(session, opportunity_id=None, kinds=[KIND],
                    resolution="every Stripe money movement is booked")
            return 0
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise_exception(
            session, opportunity_id=None, kind=KIND, system="stripe",
            reason=f"{len(found)} money movement(s) in Stripe can't be booked{more}. "
                   f"First, {first.subject}: {first.reason}",
            detail="; ".join(e.subject for e in found[:NAMED]),
        )
    return len(found)
