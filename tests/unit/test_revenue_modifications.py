"""Contract modifications classified and re-planned (ASC 606-10-25-12/13), worked by hand.

Acme: Implementation Services $20,000 (one-time, not delivered yet) + Platform Subscription
$100,000, 1 Jan - 31 Oct 2026 billed annually (one period of 304 days, 1 Jan to 1 Nov),
recognized $10,000 a month on each month's last day. On 17 March (229 days left) January and
February are recognized: $20,000.

Prospective: the subscription raised to $110,000 on 17 March. The change adds what Stripe bills
from that day: 11,000,000 x 229/304 = 8,286,184 less 10,000,000 x 229/304 = 7,532,895, that is
753,289. Not yet recognized: 2,000,000 (implementation) + 8,000,000 (subscription) = 10,000,000.
Pool 10,753,289 allocated by what is left at the new prices: implementation 2,000,000,
subscription 8,286,184 (weights 10,286,184):
  subscription 10,753,289 x 8,286,184 / 10,286,184 = 8,662,467 remainder 1,803,248 (.175)
  implementation 10,753,289 x 2,000,000 / 10,286,184 = 2,090,821 remainder 8,482,936 (.825)
the cent goes to the larger remainder: 2,090,822 + 8,662,467 = 10,753,289. Over the contract's
life: 2,000,000 + 8,662,467 + 2,090,822 = 12,753,289 = 12,000,000 + 753,289, the amended value.

Cumulative catch-up: an implementation of $30,000 recognized by milestones 40/60, the first
reached ($12,000 recognized, 40%), its price raised to $36,000 on 1 April (scope added to the
same work, not distinct). 36,000 x 40% = 14,400 measured: a catch-up of 2,400.00 on 1 April,
21,600.00 left for the second milestone. The subscription's January-March are recognized
(30,000); nothing of its price changed, so its 70,000 left stays 70,000.

Separate contract: Training added at $3,000, its SSP range $2,500-$3,500: nothing planned moves,
the training recognizes its own $3,000. At $1,500 (below the range) it is not at SSP, so it is
prospective: pool 10,000,000 + 150,000 = 10,150,000 over implementation 2,000,000, subscription
7,532,895 (unchanged price, 229/304 of 10,000,000) and training at its SSP floor 250,000
(weights 9,782,895).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.settings import DEFAULT_REQUIRED_FIELDS
from sync.contracts.normalize import normalize
from sync.engine.modification import classify_amendment
from sync.model import Contract
from sync.revenue.allocation import Ssp
from sync.revenue.modifications import Kind
from tests.unit.deals import deal, line

MARCH_17 = date(2026, 3, 17)
TRAINING_SSP = {"Training": Ssp(250_000, 350_000, "USD")}


def _acme(subscription: str, version: int, *extra: dict[str, Any]) -> Contract:
    lines = [line("L1", "Implementation Services", "20000", billing_type="One-Time"),
             line("L2", "Platform Subscription", subscription), *extra]
    amount = sum(int(ln["TotalPrice"]) for ln in lines)
    return normalize(deal(amount=str(amount), lines=lines), version=version,
                     required=DEFAULT_REQUIRED_FIELDS)


def _milestones(implementation: str, version: int) -> Contract:
    lines = [line("L1", "Implementation Services", implementation, billing_type="One-Time",
                  Milestones__c="40/60"),
             line("L2", "Platform Subscription", "100000")]
    return normalize(deal(amount=str(100_000 + int(implementation)), lines=lines),
                     version=version, required=DEFAULT_REQUIRED_FIELDS)


def _with_delivery(contract: Contract, on: date) -> Contract:
    return contract.model_copy(update={"obligations": tuple(
        o.model_copy(update={"delivered_on": on}) if not o.recurring else o
        for o in contract.obligations)})


def _training(total: str) -> dict[str, Any]:
    return line("L3", "Training", total, billing_type="One-Time")


def test_an_upsell_of_a_subscription_is_prospective() -> None:
    found = classify_amendment(_acme("100000", 1), _acme("110000", 2), MARCH_17,
                               on_delivery=True)
    assert found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L1": 2_090_822, "L2": 8_662_467}
    assert found.catch_up == {}
    assert 2_000_000 + sum(found.remaining.values()) == 12_000_000 + 753_289
    assert "USD 100,000.00 not yet recognized" in found.reason
    assert "plus the USD 7,532.89 the change adds" in found.reason
    assert "606-10-25-13(a)" in found.reason


def test_a_delivered_implementation_takes_nothing_of_the_pool() -> None:
    # Delivered before the change (recognized on its service start, 1 January, when deliveries
    # aren't marked by hand): all of 8,000,000 + 753,289 goes to the subscription.
    found = classify_amendment(_acme("100000", 1), _acme("110000", 2), MARCH_17)
    assert found.remaining == {"L1": 0, "L2": 8_753_289}
    # Delivered On from Salesforce says the same when deliveries are marked by hand.
    on = date(2026, 2, 20)
    found = classify_amendment(_with_delivery(_acme("100000", 1), on),
                               _with_delivery(_acme("110000", 2), on), MARCH_17,
                               on_delivery=True)
    assert found.remaining == {"L1": 0, "L2": 8_753_289}


def test_a_price_change_to_work_under_way_is_a_cumulative_catch_up() -> None:
    found = classify_amendment(_milestones("30000", 1), _milestones("36000", 2),
                               date(2026, 4, 1), recognized={"L1": 1_200_000})
    assert found.kind is Kind.CUMULATIVE_CATCH_UP
    assert found.catch_up == {"L1": 240_000}
    assert found.remaining == {"L1": 2_160_000, "L2": 7_000_000}
    # Recognized + catch-up + left = the new price, to the cent.
    assert 1_200_000 + 240_000 + 2_160_000 == 3_600_000
    assert "40% complete" in found.reason and "USD 2,400.00" in found.reason


def test_an_add_on_at_its_ssp_is_a_separate_contract() -> None:
    found = classify_amendment(_acme("100000", 1), _acme("100000", 2, _training("3000")),
                               MARCH_17, ssps=TRAINING_SSP, on_delivery=True)
    assert found.kind is Kind.SEPARATE_CONTRACT
    assert (found.remaining, found.added) == ({"L3": 300_000}, ("L3",))
    assert "Training" in found.reason and "606-10-25-12" in found.reason
    assert found.as_record()["kind"] == "separate_contract"


def test_an_add_on_below_its_ssp_is_prospective() -> None:
    # 10,150,000 x 2,000,000 / 9,782,895 = 2,075,051.2; x 7,532,895 / 9,782,895 = 7,815,568.0;
    # x 250,000 / 9,782,895 = 259,380.8: 2,075,051 + 7,815,568 + 259,381 = 10,150,000.
    found = classify_amendment(_acme("100000", 1), _acme("100000", 2, _training("1500")),
                               MARCH_17, ssps=TRAINING_SSP, on_delivery=True)
    assert found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L1": 2_075_051, "L2": 7_815_568, "L3": 259_381}
    assert sum(found.remaining.values()) == 10_150_000


def test_an_add_on_without_a_known_ssp_is_not_called_a_separate_contract() -> None:
    found = classify_amendment(_acme("100000", 1), _acme("100000", 2, _training("3000")),
                               MARCH_17, on_delivery=True)
    assert found.kind is Kind.PROSPECTIVE


def test_a_decrease_is_prospective_net_of_its_credit() -> None:
    """Umbrella: 50 seats x $600 a quarter, 1 Jan - 31 Dec 2026 ($120,000, recognized 10,000.00
    a month), down to 48 seats on 15 February. Stripe credits the first quarter's unused 45 of
    90 days: 3,000,000 x 45/90 - 2,880,000 x 45/90 = 60,000; the three later quarters bill
    3 x 120,000 = 360,000 less. January is recognized (1,000,000): the 11,000,000 not yet
    recognized less 420,000 is what the seats have left, 10,580,000; over the contract's life
    1,000,000 + 10,580,000 = 11,580,000 = 120,000.00 - 3,600.00 - 600.00."""
    def umbrella(seats: int, version: int) -> Contract:
        record = deal(amount=str(2_400 * seats), Billing_Cadence__c="Quarterly",
                      Contract_End_Date__c="2026-12-31",
                      lines=[line("L1", "Platform Seats", str(2_400 * seats), quantity=seats,
                                  list_price="2400")])
        return normalize(record, version=version, required=DEFAULT_REQUIRED_FIELDS)

    found = classify_amendment(umbrella(50, 1), umbrella(48, 2), date(2026, 2, 15))
    assert found is not None and found.kind is Kind.PROSPECTIVE
    assert found.remaining == {"L1": 10_580_000}
    assert "USD 110,000.00 not yet recognized" in found.reason
    assert "less the USD 4,200.00 the change takes off" in found.reason


def test_a_price_change_after_everything_is_delivered_is_caught_up_at_once() -> None:
    """A one-time $20,000 implementation delivered on 1 January, raised to $22,000 on 17
    March: nothing is left to deliver, so the 2,000.00 is revenue of March, all of it the
    implementation's, and nothing is left to recognize."""
    only = [line("L1", "Implementation Services", "20000", billing_type="One-Time")]
    raised = [line("L1", "Implementation Services", "22000", billing_type="One-Time")]
    before = normalize(deal(amount="20000", lines=only), version=1,
                       required=DEFAULT_REQUIRED_FIELDS)
    after = normalize(deal(amount="22000", lines=raised), version=2,
                      required=DEFAULT_REQUIRED_FIELDS)
    found = classify_amendment(before, after, MARCH_17)
    assert found is not None and found.kind is Kind.CUMULATIVE_CATCH_UP
    assert (found.catch_up, found.remaining) == ({"L1": 200_000}, {"L1": 0})
    assert "nothing is left to deliver" in found.reason and "USD 2,000.00" in found.reason
