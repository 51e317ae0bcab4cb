"""Relative-SSP allocation worked examples, to the cent (ASC 606-10-32-28).

The seed deal: Implementation Services (one-time, SSP $20,000) and Platform Subscription
(SSP $10,000 a month, 10 months Jan-Oct 2026: $100,000 standalone). Standalone total $120,000.
"""

from __future__ import annotations

import pytest

from sync.contracts.normalize import normalize
from sync.model import Contract
from sync.revenue.allocation import MissingSsp, Ssp, allocate, largest_remainder
from tests.unit.deals import deal, line

IMPL, PLATFORM, TRAINING = "Implementation Services", "Platform Subscription", "Training"
SSPS = {
    IMPL: Ssp(2_000_000, 2_000_000, "USD"),  # $20,000 per unit
    PLATFORM: Ssp(1_000_000, 1_000_000, "USD"),  # $10,000 per month
    TRAINING: Ssp(300_000, 300_000, "USD"),  # $3,000 per unit
}


def contract(amount: str, lines: list[dict]) -> Contract:
    return normalize(deal(amount=amount, lines=lines), version=1, required=())


def impl(total: str) -> dict:
    return line("L1", IMPL, total, billing_type="One-Time", list_price="20000")


PLATFORM_LINE = line("L2", PLATFORM, "100000", list_price="10000")


def allocated(c: Contract) -> dict[str, int]:
    return {o.product: o.revenue_minor for o in c.obligations}


def test_seed_at_ssp_is_not_reallocated() -> None:
    seed = contract("120000", [impl("20000"), PLATFORM_LINE])
    assert allocate(seed, SSPS) is seed
    assert allocate(seed, {}) is seed  # no SSP needed: nothing discounted


def test_implementation_half_off_is_allocated_by_relative_ssp() -> None:
    # Transaction price 110,000.00; 110,000 x 20/120 = 18,333.333.. and x 100/120 = 91,666.666..
    # Remainders .333 and .667: the cent goes to the subscription. 18,333.33 + 91,666.67 = 110,000.
    c = allocate(contract("110000", [impl("10000"), PLATFORM_LINE]), SSPS)
    assert allocated(c) == {IMPL: 1_833_333, PLATFORM: 9_166_667}
    assert [o.amount_minor for o in c.obligations] == [1_000_000, 10_000_000]  # billed as sold


def test_waived_implementation_still_gets_its_share() -> None:
    # 100,000 x 20/120 = 16,666.67 (remainder .667 rounds up), x 100/120 = 83,333.33.
    c = allocate(contract("100000", [impl("0"), PLATFORM_LINE]), SSPS)
    assert allocated(c) == {IMPL: 1_666_667, PLATFORM: 8_333_333}


def test_three_obligation_bundle_with_a_free_item() -> None:
    # Standalone: 20,000 + 100,000 + 3,000 = 123,000; price 120,000 (training free).
    # In cents: 12,000,000 x 2,000,000/12,300,000 = 1,951,219.51; x 10,000,000/.. =
    # 9,756,097.56; x 300,000/.. = 292,682.93. Floors add to 11,999,998: the two cents go to the
    # largest remainders, training (.927) and the subscription (.561).
    training = line("L3", TRAINING, "0", billing_type="One-Time", list_price="3000")
    c = allocate(contract("120000", [impl("20000"), PLATFORM_LINE, training]), SSPS)
    assert allocated(c) == {IMPL: 1_951_219, PLATFORM: 9_756_098, TRAINING: 292_683}
    assert sum(allocated(c).values()) == 12_000_000


def test_price_inside_the_ssp_range_moves_nothing() -> None:
    ranged = {**SSPS, IMPL: Ssp(1_500_000, 2_500_000, "USD")}
    c = contract("115000", [impl("15000"), PLATFORM_LINE])
    assert allocate(c, ranged) is c
    # Below the range, the lower bound is its SSP: 12,000 against 15,000-25,000 allocates
    # 112,000 x 15/115 = 14,608.6956 (remainder .565 takes the cent) and x 100/115 = 97,391.30.
    low = allocate(contract("112000", [impl("12000"), PLATFORM_LINE]), ranged)
    assert allocated(low) == {IMPL: 1_460_870, PLATFORM: 9_739_130}


def test_a_missing_ssp_names_the_product_when_allocation_is_needed() -> None:
    c = contract("110000", [impl("10000"), PLATFORM_LINE])
    with pytest.raises(MissingSsp) as raised:
        allocate(c, {PLATFORM: SSPS[PLATFORM]})
    assert raised.value.products == (IMPL,)
    assert "Implementation Services" in str(raised.value)


def test_unallocated_contracts_keep_their_fingerprint() -> None:
    # Contracts accepted before allocation existed must not look changed (a new version).
    import hashlib
    import json

    c = contract("110000", [impl("10000"), PLATFORM_LINE])
    # (and before cancellations and legal entities existed: an empty `canceled_on` and an
    # empty `entity` are left out too)
    body = c.model_dump(mode="json", exclude={"version", "canceled_on", "entity"})
    for ob in body["obligations"]:
        del ob["allocated_minor"]
        del ob["milestones"], ob["delivered_on"]  # newer still, and empty here
    before = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    assert c.terms_hash() == before != allocate(c, SSPS).terms_hash()


@pytest.mark.parametrize("total", [0, 1, 7, 12_000_001])
def test_largest_remainder_adds_back(total: int) -> None:
    assert sum(largest_remainder(total, [2, 10, 1])) == total


def test_ssp_is_read_from_the_salesforce_product() -> None:
    from sync.connectors.salesforce import LINE_FIELDS

    assert "Product2.SSP__c" in LINE_FIELDS


def test_salesforce_product_fields_give_points_ranges_and_refuse_an_empty_range() -> None:
    from sync.contracts.normalize import InvalidDeal
    from sync.engine.ssp import from_lines

    lines = [{"Product2.Name": IMPL, "Product2.SSP__c": 20000.0, "Product2.SSP_High__c": None},
             {"Product2.Name": PLATFORM, "Product2.SSP__c": "9000.5",
              "Product2.SSP_High__c": 11000},
             {"Product2.Name": "Training", "Product2.SSP__c": None}]
    assert from_lines(lines, "USD") == {IMPL: Ssp(2_000_000, 2_000_000, "USD"),
                                        PLATFORM: Ssp(900_050, 1_100_000, "USD")}
    with pytest.raises(InvalidDeal) as raised:
        from_lines([{"Product2.Name": "Training", "Product2.SSP__c": 5000,
                     "Product2.SSP_High__c": 4000}], "USD")
    assert [p.field for p in raised.value.problems] == ["SSP_High__c"]
    assert "Training: the SSP High USD 4,000.00 is below" in str(raised.value)
