from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.settings import DEFAULT_REQUIRED_FIELDS
from sync.contracts.normalize import InvalidDeal, normalize
from sync.contracts.policy import PolicyLimits, review_reasons
from sync.model import Cadence, PricingModel, Recognition
from tests.unit.deals import deal, line

REQUIRED = DEFAULT_REQUIRED_FIELDS


def test_120k_deal_two_obligations() -> None:
    contract = normalize(deal(), version=1, required=REQUIRED)
    fee, subscription = contract.obligations
    assert contract.total_minor == 12_000_000
    assert (fee.recurring, fee.amount_minor, fee.recognition) == (
        False, 2_000_000, Recognition.POINT_IN_TIME)
    assert subscription.recurring and subscription.amount_minor == 10_000_000
    assert subscription.recognition == Recognition.RATABLE
    assert (subscription.service_start, subscription.service_end) == (
        date(2026, 1, 1), date(2026, 10, 31))
    assert contract.billing.term_months == 10
    # Annual billing over a 10-month term: one invoice for the whole subscription.
    assert (subscription.periods, subscription.period_amount_minor) == (1, 10_000_000)
    assert sum(o.amount_minor for o in contract.obligations) == contract.total_minor


def test_monthly_120k_bills_ten_instalments_of_10k() -> None:
    contract = normalize(deal(Billing_Cadence__c="Monthly"), version=1, required=REQUIRED)
    subscription = contract.recurring[0]
    assert (subscription.periods, subscription.period_amount_minor) == (10, 1_000_000)


def test_quarterly_per_seat() -> None:
    record = deal(
        amount="120000", Billing_Cadence__c="Quarterly", Contract_End_Date__c="2026-12-31",
        lines=[line("L1", "Seats", "120000", quantity=50, list_price="2400")],
    )
    (seats,) = normalize(record, version=1, required=REQUIRED).obligations
    assert seats.pricing == PricingModel.PER_SEAT
    assert (seats.quantity, seats.periods, seats.unit_minor) == (50, 4, 60_000)
    assert seats.discount_pct == 0


def test_annual_eur_two_years() -> None:
    record = deal(
        amount="60000", CurrencyIsoCode="EUR", Contract_End_Date__c="2027-12-31",
        lines=[line("L1", "Platform", "60000")],
    )
    contract = normalize(record, version=1, required=REQUIRED)
    assert contract.billing.cadence == Cadence.ANNUAL and contract.currency == "EUR"
    assert (contract.obligations[0].periods, contract.obligations[0].unit_minor) == (2, 3_000_000)


def test_line_discount_is_measured_against_list_price() -> None:
    record = deal(
        amount="15600", Billing_Cadence__c="Monthly", Contract_End_Date__c="2026-12-31",
        lines=[line("L1", "Seats", "15600", quantity=20, list_price="1200", discount="35")],
    )
    contract = normalize(record, version=1, required=REQUIRED)
    assert contract.obligations[0].discount_pct == Decimal("35.00")
    reasons = review_reasons(contract, limits=PolicyLimits())
    assert [r.kind for r in reasons] == ["discount"]
    assert "35% off list" in reasons[0].what


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"Billing_Cadence__c": None}, "Billing_Cadence__c", "Billing Cadence is empty"),
        ({"Billing_Cadence__c": "Weekly"}, "Billing_Cadence__c", "Billing Cadence 'Weekly' is not"),
        ({"CurrencyIsoCode": "XYZ"}, "CurrencyIsoCode", "not a known ISO 4217"),
        ({"Contract_End_Date__c": "2025-12-01"}, "Contract_End_Date__c", "before it starts"),
        ({"Contract_Start_Date__c": "soon"}, "Contract_Start_Date__c",
         "Contract Start Date is not a date"),
        ({"Payment_Terms__c": "whenever"}, "Payment_Terms__c", "Payment Terms 'whenever' is not"),
        ({"Amount": Decimal("0")}, "Amount", "Amount is USD 0.00; a closed-won deal needs a value"),
        ({"Amount": "lots"}, "Amount", "not a number"),
        ({"Amount": Decimal("119000")}, "Amount",
         "add up to USD 120,000.00, but the deal Amount is USD 119,000.00"),
    ],
)
def test_validation_names_the_field_to_fix(overrides: dict, field: str, words: str) -> None:
    with pytest.raises(InvalidDeal) as caught:
        normalize(deal(**overrides), version=1, required=REQUIRED)
    assert field in {p.field for p in caught.value.problems}
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([], "no products"),
        ([line("L1", "Seats", "120000", quantity=-5)], "whole number above 0"),
        ([line("L1", "Seats", "120000", quantity="abc")], "whole number above 0"),
        ([line("L1", "Seats", "120000", billing_type="Sometimes")],
         "Billing Type is not Recurring or One-Time"),
        ([line("L1", "A", "60000"), line("L1", "A", "60000")], "appears twice"),
        ([line("L1", "Seats", "-1", billing_type="One-Time")], "missing or negative"),
    ],
)
def test_bad_lines_are_explained(lines: list, words: str) -> None:
    with pytest.raises(InvalidDeal) as caught:
        normalize(deal(lines=lines), version=1, required=REQUIRED)
    assert words in str(caught.value)


def test_uneven_instalments_are_refused_not_rounded() -> None:
    record = deal(
        amount="100000.01", Billing_Cadence__c="Monthly",
        lines=[line("L1", "Platform", "100000.01")],
    )
    with pytest.raises(InvalidDeal, match="does not split evenly into 10 monthly invoices"):
        normalize(record, version=1, required=REQUIRED)


def test_terms_hash_ignores_version_but_sees_price_changes() -> None:
    one = normalize(deal(), version=1, required=REQUIRED)
    two = normalize(deal(), version=2, required=REQUIRED)
    assert one.terms_hash() == two.terms_hash()
    changed = normalize(
        deal(amount="130000", lines=[
            line("L1", "Implementation Services", "30000", billing_type="One-Time"),
            line("L2", "Platform Subscription", "100000"),
        ]),
        version=1, required=REQUIRED,
    )
    assert changed.terms_hash() != one.terms_hash()


def test_long_payment_terms_need_approval() -> None:
    contract = normalize(deal(Payment_Terms__c="Net 90"), version=1, required=REQUIRED)
    assert [r.kind for r in review_reasons(contract, limits=PolicyLimits())] == ["terms"]
