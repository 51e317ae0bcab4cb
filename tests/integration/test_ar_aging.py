"""AR aging read from each ERP's open invoices (the embedded ledger and NetSuite alike).

Worked by hand: the Acme deal bills USD 120,000.00 today, Net 30, unpaid. Aged today: all
current. Aged 75 days on (45 days past due): all in 31-60. The total stays 120,000.00.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from sync.ops.aging import BUCKETS, ar_aging
from tests.integration.books import books_rt, books_stack, seed_acme, today  # noqa: F401

TOTAL = 12_000_000


def test_ar_aging_from_the_erp(books_stack: SandboxStack, books_rt: Runtime,  # noqa: F811
                               sessions: sessionmaker[Session]) -> None:
    start = today(books_stack)
    seed_acme(books_stack, start)
    sync_once(books_rt)
    now = ar_aging(books_rt.erp, start)
    assert now.totals == {"USD": {"current": TOTAL, **dict.fromkeys(BUCKETS[1:], 0)}}
    assert [name for name, _ in now.customers] == ["Acme Corp"] and now.invoices == 1
    later = ar_aging(books_rt.erp, start + timedelta(days=75))
    assert later.totals["USD"]["31-60"] == TOTAL == sum(later.totals["USD"].values())
    assert ar_aging(books_rt.erp, start, "acme").totals == now.totals
    assert ar_aging(books_rt.erp, start, "globex").totals == {}
