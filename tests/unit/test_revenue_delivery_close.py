"""Delivery and the period lock on the ledger itself (the CLI tests run the same end to end).

A sales order: Implementation 20,000.00 awaiting delivery, signed 2026-10-15. October is closed
on 2026-11-02 (nothing due: the implementation awaits delivery, so 0 entries). Then:
- a delivery dated 2026-10-20 (in closed October) is refused, the row still awaits;
- a delivery on 2026-11-03 is recorded; the next revenue run posts Dr Deferred 20,000.00 /
  Cr Services Revenue 20,000.00 dated 2026-11-03;
- a revenue entry whose day is in closed October is posted on 2026-11-01, memo naming its day.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.ledger import LedgerJournalEntry, LedgerRevenueSchedule
from sync.ledger import Ledger, SalesOrderLineIn
from sync.ledger.accounts import DEFERRED_REVENUE, SERVICES_REVENUE
from sync.ledger.journal import Leg, post_entry
from sync.ledger.periods import ClosedPeriod
from sync.revenue.delivery import AWAITING

IMPL = "Implementation Services"


def test_delivery_in_a_closed_period_is_refused(sessions: sessionmaker[Session]) -> None:
    ledger = Ledger(sessions)
    ledger.upsert_customer(external_id="001X", name="Acme", currency="USD")
    ledger.upsert_sales_order(external_id="006X:v1", customer_external_id="001X",
                              currency="USD", lines=[SalesOrderLineIn(
                                  external_id="00kI", description=IMPL, amount_minor=2_000_000,
                                  recurring=False, service_start=date(2026, 10, 15),
                                  service_end=date(2026, 10, 15), recognition="point_in_time",
                                  awaiting_delivery=True)])
    closed = ledger.close_period(period="2026-10", by="controller", today=date(2026, 11, 2))
    assert closed.posted == 0 and closed.roll_forward == ()

    with pytest.raises(ClosedPeriod, match="closed through 31 Oct 2026"):
        ledger.mark_delivered(opportunity_id="006X", product=IMPL, on=date(2026, 10, 20),
                              by="ops", today=date(2026, 11, 2))
    with transaction(sessions) as s:
        assert s.scalar(select(LedgerRevenueSchedule.recognize_on)) == AWAITING

    ledger.mark_delivered(opportunity_id="006X", product=IMPL, on=date(2026, 11, 3), by="ops",
                          today=date(2026, 11, 3))
    assert ledger.recognize_revenue(through=date(2026, 11, 3)) == 1
    with transaction(sessions) as s:
        entry = s.scalar(select(LedgerJournalEntry).where(
            LedgerJournalEntry.source_type == "revenue_schedule"))
        assert entry is not None and entry.posted_on == date(2026, 11, 3)
        late = post_entry(s, external_id="late:1", memo="late item", posted_on=date(2026, 10, 9),
                          currency="USD", source_type="manual", source_ref="x",
                          legs=[Leg(DEFERRED_REVENUE, debit=100), Leg(SERVICES_REVENUE,
                                                                       credit=100)])
        assert late.posted_on == date(2026, 11, 1)
        assert late.memo == "late item (dated 2026-10-09, in closed period 2026-10)"
