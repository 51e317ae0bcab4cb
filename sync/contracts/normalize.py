"""Normalization: a validated deal becomes a canonical contract with one obligation per deliverable.

A recurring line's TotalPrice is its value over the whole term; it is billed in equal instalments,
one per billing period (`ceil(term months / cadence months)`), and recognized ratably. A term
that is not a whole number of periods (14 months billed annually) prices each whole period by its
months of the term (12/14 of the total) and bills the rest as a shorter last period; a term
shorter than one period is that one period. A one-time line is billed on the first invoice and
recognized at a point in time (delivery).
"""

from __future__ import annotations

import math
from decimal import Decimal

from sync.contracts.entities import Entities
from sync.contracts.terms import (
    parse_billing_type,
    parse_cadence,
    parse_date,
    parse_decimal,
    parse_milestones,
    parse_payment_terms,
    salesforce_id,
)
from sync.contracts.validation import Problem, check_deal
from sync.model import (
    BillingPlan,
    Contract,
    Customer,
    Obligation,
    PricingModel,
    Recognition,
)
from sync.money import format_money, round_to_minor, to_minor
from sync.ports import DealRecord


class InvalidDeal(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def normalize(deal: DealRecord, *, version: int, required: tuple[str, ...],
              entities: Entities | None = None) -> Contract:
    problems = check_deal(deal, required)
    entity = (entities or Entities()).resolve(deal.fields)
    if isinstance(entity, Problem):
        problems.append(entity)
    if problems:
        raise InvalidDeal(problems)
    f = deal.fields
    currency = str(f["CurrencyIsoCode"]).upper()
    start = parse_date(f["Contract_Start_Date__c"])
    end = parse_date(f["Contract_End_Date__c"])
    cadence = parse_cadence(f["Billing_Cadence__c"])
    terms = parse_payment_terms(f["Payment_Terms__c"])
    assert start and end and cadence and terms is not None  # guaranteed by check_deal
    plan = BillingPlan(
        cadence=cadence, start=start, end=end, payment_terms_days=terms, currency=currency
    )
    periods = math.ceil(plan.term_months / cadence.months)
    obligations = []
    for line in deal.lines:
        obligation = _obligation(line, plan, periods)
        if isinstance(obligation, Problem):
            problems.append(obligation)
        else:
            obligations.append(obligation)
    renews = str(f.get("Renewal_Of__c") or "").strip()
    if renews and salesforce_id(renews) is None:
        problems.append(Problem("Renewal_Of__c", (
            f"Renewal Of '{renews[:40]}' is not a Salesforce record ID: enter the 15- or "
            "18-character ID of the opportunity this deal renews")))
    canceled_on = parse_date(f.get("Cancellation_Date__c"))
    if canceled_on is not None and not start <= canceled_on < end:
        problems.append(Problem("Cancellation_Date__c", (
            f"Cancellation Date {canceled_on} must fall within the contract term, on or after "
            f"the Contract Start Date {start} and before the Contract End Date {end}")))
    if problems:
        raise InvalidDeal(problems)
    return Contract(
        opportunity_id=deal.opportunity_id,
        version=version,
        name=str(f.get("Name") or deal.opportunity_id),
        customer=Customer(
            crm_account_id=str(f.get("AccountId") or ""),
            name=str(f.get("Account.Name") or f.get("Name") or ""),
            email=f.get("Account.Billing_Email__c") or None,
        ),
        owner_email=f.get("Owner.Email") or None,
        billing=plan,
        obligations=tuple(obligations),
        total_minor=to_minor(parse_decimal(f["Amount"]) or Decimal(0), currency),
        canceled_on=canceled_on,
        entity=entity.name if entity is not None else None,
    )


def _obligation(line: dict, plan: BillingPlan, periods: int) -> Obligation | Problem:
    currency = plan.currency
    name = str(line.get("Product2.Name") or line.get("Name") or "Product")
    recurring = bool(parse_billing_type(line["Billing_Type__c"]))
    quantity = int(parse_decimal(line["Quantity"]) or 0)
    total = to_minor(parse_decimal(line["TotalPrice"]) or Decimal(0), currency)
    discount = parse_decimal(line.get("Discount")) or Decimal(0)
    list_unit = parse_decimal(line.get("ListPrice")) or parse_decimal(line.get("UnitPrice"))
    list_total = round_to_minor((list_unit or Decimal(0)) * quantity, currency)
    n = periods if recurring else 1
    unit, remainder = divmod(total, n * quantity)
    if recurring and plan.term_months % plan.cadence.months and n > 1:
        # Whole periods at the term's price per month; the last, shorter one bills the rest.
        unit, remainder = divmod(total * plan.cadence.months, plan.term_months * quantity)
        remainder += total % quantity
    if remainder:
        return Problem(
            "TotalPrice",
            f"{name}: {format_money(total, currency)} does not split evenly into "
            f"{_count(n, f'{plan.cadence.value} invoice')} for {_count(quantity, 'unit')}",
        )
    if recurring:
        service_start, service_end = plan.start, plan.end
    else:
        service_start = parse_date(line.get("ServiceDate")) or plan.start
        service_end = parse_date(line.get("Service_End_Date__c")) or service_start
    delivered_on = None if recurring else parse_date(line.get("Delivered_On__c"))
    if delivered_on is not None and delivered_on < plan.start:
        return Problem("Delivered_On__c", (
            f"{name}: Delivered On {delivered_on:%d %b %Y} is before the Contract Start Date "
            f"{plan.start:%d %b %Y}: enter the day it was delivered, on or after the start"))
    try:
        milestones = None if recurring else parse_milestones(line.get("Milestones__c"))
    except ValueError as error:
        return Problem("Milestones__c", f"{name}: Milestones {error}")
    recognition = (Recognition.RATABLE if recurring else Recognition.MILESTONE if milestones
                   else Recognition.POINT_IN_TIME)
    effective_discount = (
        (Decimal(1) - Decimal(total) / Decimal(list_total)) * 100 if list_total else discount
    )
    return Obligation(
        line_id=str(line.get("Id")),
        product=name,
        recurring=recurring,
        pricing=PricingModel.PER_SEAT if quantity > 1 else PricingModel.FLAT,
        quantity=quantity,
        list_unit_minor=list_total // (n * quantity) if list_total else unit,
        unit_minor=unit,
        discount_pct=max(Decimal(0), effective_discount.quantize(Decimal("0.01"))),
        amount_minor=total,
        periods=n,
        service_start=service_start,
        service_end=service_end,
        recognition=recognition,
        milestones=milestones or (),
        delivered_on=delivered_on,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
