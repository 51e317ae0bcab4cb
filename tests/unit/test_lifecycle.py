"""The term's last, shorter period, a cancellation's unused months, and the contract hash."""

from __future__ import annotations

from datetime import date

import pytest

from app.settings import DEFAULT_REQUIRED_FIELDS
from sync.connectors.stripe_lifecycle import last_period_unit, rest_months, whole_periods
from sync.contracts.normalize import InvalidDeal, normalize
from sync.engine.lifecycle import unused_minor
from sync.model import InvoiceLine
from tests.unit.deals import deal, line

REQUIRED = DEFAULT_REQUIRED_FIELDS


def test_fourteen_months_billed_annually_is_a_year_then_two_months_by_month() -> None:
    record = deal(amount="140000", Contract_End_Date__c="2027-02-28",
                  lines=[line("L1", "Platform", "140000")])
    contract = normalize(record, version=1, required=REQUIRED)
    (platform,) = contract.obligations
    # 140,000 x 12/14 = 120,000 a year; the 2 months left: 140,000 - 120,000 = 20,000.
    assert (contract.billing.term_months, platform.periods, platform.unit_minor) == (
        14, 2, 12_000_000)
    assert (whole_periods(contract), rest_months(contract)) == (1, 2)
    assert last_period_unit(platform, contract) == 2_000_000


def test_a_term_that_does_not_split_by_month_is_refused() -> None:
    record = deal(amount="100000", Contract_End_Date__c="2027-02-28",
                  lines=[line("L1", "Platform", "100000")])
    with pytest.raises(InvalidDeal, match="does not split evenly"):
        normalize(record, version=1, required=REQUIRED)


def test_a_cancellation_date_outside_the_term_names_the_field() -> None:
    with pytest.raises(InvalidDeal, match="Cancellation Date 2027-01-15 must fall within"):
        normalize(deal(Cancellation_Date__c="2027-01-15"), version=1, required=REQUIRED)
    inside = normalize(deal(Cancellation_Date__c="2026-06-30"), version=2, required=REQUIRED)
    assert inside.canceled_on == date(2026, 6, 30)


def test_a_renewal_of_that_is_no_record_id_names_the_field() -> None:
    with pytest.raises(InvalidDeal, match="Renewal Of 'last year's deal' is not a Salesforce"):
        normalize(deal(Renewal_Of__c="last year's deal"), version=1, required=REQUIRED)
    normalize(deal(Renewal_Of__c="0068d000000000BAAQ"), version=1, required=REQUIRED)


def test_a_contract_never_cancelled_keeps_its_hash() -> None:
    plain = normalize(deal(), version=1, required=REQUIRED)
    assert "canceled_on" not in plain.model_dump_json(exclude_none=True)
    cancelled = normalize(deal(Cancellation_Date__c="2026-06-30"), version=1, required=REQUIRED)
    assert cancelled.terms_hash() != plain.terms_hash()
    assert plain.terms_hash() == plain.model_copy(update={"canceled_on": None}).terms_hash()


@pytest.mark.parametrize(("ends", "unused"), [
    (date(2026, 7, 1), 6_000_000),    # cancelled after 6 of 12 months: half
    (date(2026, 1, 1), 12_000_000),   # before the period: all of it
    (date(2027, 1, 1), 0),            # at its end: nothing
    (date(2026, 10, 1), 3_000_000),   # 3 months left
])
def test_unused_months_of_an_annual_line(ends: date, unused: int) -> None:
    year = InvoiceLine(description="Platform", amount_minor=12_000_000, recurring=True,
                       period_start=date(2026, 1, 1), period_end=date(2027, 1, 1))
    assert unused_minor(year, ends) == unused


def test_a_one_time_line_has_nothing_unused() -> None:
    fee = InvoiceLine(description="Implementation", amount_minor=2_000_000, recurring=False)
    assert unused_minor(fee, date(2026, 2, 1)) == 0
