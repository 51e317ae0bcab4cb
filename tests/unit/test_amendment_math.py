"""The change order of a contract changed mid-term, worked by hand (docs/amendments.md).

Acme: $20,000 implementation + $100,000 subscription, 1 Jan - 31 Oct 2026 billed annually, one
period of 304 days (1 Jan to 1 Nov). Raised to $110,000 on 17 March (day 75), 229 days left:
Stripe bills 11,000,000 x 229/304 = 8,286,184.2 -> 8,286,184 "Remaining time" and credits
10,000,000 x 229/304 = 7,532,894.7 -> 7,532,895 "Unused time": the change order is 753,289,
recognized from 17 March to 31 October.

Umbrella: 50 seats x $600 a quarter, 1 Jan - 31 Dec 2026 billed quarterly, down to 48 on 15
February, in the first quarter of 90 days with 45 left: Stripe's unused 3,000,000 x 45/90 =
1,500,000 less the remaining 2,880,000 x 45/90 = 1,440,000 is a 60,000 credit; the change order
is 3 x -120,000 = -360,000 from 1 April.
"""

from __future__ import annotations

from datetime import date

from app.settings import DEFAULT_REQUIRED_FIELDS
from sync.contracts.amendments import amend, amended_value
from sync.contracts.normalize import normalize
from sync.model import Contract, Recognition
from tests.unit.deals import deal, line


def _acme(subscription: str, version: int) -> Contract:
    record = deal(amount=str(20_000 + int(subscription)), lines=[
        line("L1", "Implementation Services", "20000", billing_type="One-Time"),
        line("L2", "Platform Subscription", subscription)])
    return normalize(record, version=version, required=DEFAULT_REQUIRED_FIELDS)


def _umbrella(seats: int, version: int) -> Contract:
    record = deal(amount=str(2_400 * seats), Billing_Cadence__c="Quarterly",
                  Contract_End_Date__c="2026-12-31",
                  lines=[line("L1", "Platform Seats", str(2_400 * seats), quantity=seats,
                              list_price="2400")])
    return normalize(record, version=version, required=DEFAULT_REQUIRED_FIELDS)


def test_annual_upsell_on_day_75_is_the_prorated_difference() -> None:
    before, after = _acme("100000", 1), _acme("110000", 2)
    change = amend(before, after, date(2026, 3, 17))
    (delta,) = change.lines
    assert (delta.amount_minor, change.credit) == (753_289, 0)
    assert (delta.service_start, delta.service_end) == (date(2026, 3, 17), date(2026, 10, 31))
    assert delta.recognition == Recognition.RATABLE
    assert delta.line_id == "L2:delta@2026-03-17"
    assert amended_value([(before, None), (after, date(2026, 3, 17))]) == 12_000_000 + 753_289


def test_quarterly_decrease_is_a_credit_now_and_less_later() -> None:
    before, after = _umbrella(50, 1), _umbrella(48, 2)
    change = amend(before, after, date(2026, 2, 15))
    (delta,) = change.lines
    assert (delta.amount_minor, change.credit) == (-360_000, 60_000)
    assert (delta.service_start, delta.service_end) == (date(2026, 4, 1), date(2026, 12, 31))
    assert amended_value([(before, None), (after, date(2026, 2, 15))]) == 12_000_000 - 360_000


def test_no_change_in_value_is_no_change_order() -> None:
    assert amend(_acme("100000", 1), _acme("100000", 2), date(2026, 3, 17)).lines == ()
