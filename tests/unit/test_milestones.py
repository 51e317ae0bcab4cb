"""Milestones (percent complete) and Delivered On, read from the Salesforce line.

Implementation Services $20,000.01 in milestones 30/30/40: 6,000.003, 6,000.003 and 8,000.004
by hand; in cents 600,000.3 + 600,000.3 + 800,000.4 = 2,000,001, whole parts 2,000,000, the one
cent left goes to the largest remainder (.4, the third): 600,000 + 600,000 + 800,001.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.settings import DEFAULT_REQUIRED_FIELDS
from sync.contracts.normalize import InvalidDeal, normalize
from sync.contracts.terms import parse_milestones
from sync.model import Recognition
from sync.revenue.delivery import AWAITING
from sync.revenue.milestones import reached_share, shares
from sync.revenue.schedule import plan
from tests.unit.deals import deal, line


def _implementation(**extra: str) -> list[dict]:
    return [line("L1", "Implementation Services", "20000", billing_type="One-Time", **extra),
            line("L2", "Platform Subscription", "100000")]


def test_milestone_shares_add_back_to_the_cent() -> None:
    assert shares(2_000_001, [Decimal(30), Decimal(30), Decimal(40)]) == [
        600_000, 600_000, 800_001]
    assert shares(100, [Decimal("33.3"), Decimal("33.3"), Decimal("33.4")]) == [33, 33, 34]
    assert reached_share(2_000_001, [Decimal(30), Decimal(30), Decimal(40)], 2) == 1_200_000


def test_a_milestone_line_is_planned_one_period_per_milestone_awaiting() -> None:
    periods = plan(amount_minor=2_000_001, start=date(2026, 1, 1), end=date(2026, 1, 1),
                   recognition="milestone", milestones=(Decimal(30), Decimal(30), Decimal(40)))
    assert [(p.recognize_on, p.amount_minor) for p in periods] == [
        (AWAITING, 600_000), (AWAITING, 600_000), (AWAITING, 800_001)]


def test_milestones_field_makes_a_milestone_obligation() -> None:
    c = normalize(deal(lines=_implementation(Milestones__c="30 / 30 / 40%")), version=1,
                  required=DEFAULT_REQUIRED_FIELDS)
    impl, platform = c.obligations
    assert impl.recognition is Recognition.MILESTONE
    assert impl.milestones == (Decimal(30), Decimal(30), Decimal(40))
    assert platform.recognition is Recognition.RATABLE and platform.milestones == ()


@pytest.mark.parametrize(("text", "words"), [
    ("30/30/30", "adds up to 90%, not 100%"),
    ("50/0/50", "each milestone must be a percentage above 0"),
    ("half/half", "not percentages separated by slashes"),
])
def test_bad_milestones_name_the_field_by_its_label(text: str, words: str) -> None:
    with pytest.raises(InvalidDeal) as caught:
        normalize(deal(lines=_implementation(Milestones__c=text)), version=1,
                  required=DEFAULT_REQUIRED_FIELDS)
    (problem,) = caught.value.problems
    assert problem.field == "Milestones__c"
    assert problem.message.startswith("Implementation Services: Milestones")
    assert words in problem.message


def test_delivered_on_is_read_and_checked_against_the_contract_start() -> None:
    c = normalize(deal(lines=_implementation(Delivered_On__c="2026-02-14")), version=1,
                  required=DEFAULT_REQUIRED_FIELDS)
    assert c.obligations[0].delivered_on == date(2026, 2, 14)
    with pytest.raises(InvalidDeal) as caught:
        normalize(deal(lines=_implementation(Delivered_On__c="2025-12-31")), version=1,
                  required=DEFAULT_REQUIRED_FIELDS)
    (problem,) = caught.value.problems
    assert problem.field == "Delivered_On__c"
    assert problem.message == (
        "Implementation Services: Delivered On 31 Dec 2025 is before the Contract Start Date "
        "01 Jan 2026: enter the day it was delivered, on or after the start")


def test_a_delivery_day_set_in_salesforce_is_a_change_of_terms() -> None:
    # (A deal without either keeps its fingerprint: test_revenue_allocation checks that.)
    plain = normalize(deal(), version=1, required=DEFAULT_REQUIRED_FIELDS)
    assert parse_milestones("") is None
    dated = normalize(deal(lines=_implementation(Delivered_On__c="2026-02-14")), version=1,
                      required=DEFAULT_REQUIRED_FIELDS)
    assert dated.terms_hash() != plain.terms_hash()
