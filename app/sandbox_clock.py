"""closebot's "today" in the sandbox: `closebot sandbox advance` moves the Stripe emulator's
clock and records here how many days closebot's books are ahead of the wall clock.

Only the revenue job and the books commands read it: the work queue's leases and backoffs keep
the wall clock, which the database's own timestamps share. The days live in closebot's database
(the sandbox's is a scratch file), so every closebot process of that sandbox sees them.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.tables import Cursor
from storage.timeutil import utcnow

CURSOR = "sandbox.days_ahead"


def days_ahead(session: Session) -> int:
    row = session.get(Cursor, CURSOR)
    return int(row.value) if row is not None else 0


def today(sessions: sessionmaker[Session]) -> date:
    """The wall clock's date, plus the days the sandbox has been advanced."""
    with transaction(sessions) as session:
        return utcnow().date() + timedelta(days=days_ahead(session))


def move_ahead(sessions: sessionmaker[Session], days: int) -> int:
    """Add `days`; returns the total days ahead."""
    with transaction(sessions) as session:
        row = session.get(Cursor, CURSOR)
        if row is None:
            row = Cursor(name=CURSOR, value="0")
            session.add(row)
        row.value = str(int(row.value) + days)
        return int(row.value)
