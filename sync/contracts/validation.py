"""The validation gate: a deal that fails here creates nothing downstream.

Every problem names the CRM field to fix, in words a finance or RevOps person acts on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sync.contracts.fields import label
from sync.contracts.terms import (
    is_blank,
    parse_billing_type,
    parse_cadence,
    parse_date,
    parse_decimal,
    parse_payment_terms,
)
from sync.money import exponent, format_amount, is_known_currency
from sync.ports import DealRecord


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def check_deal(deal: DealRecord, required: tuple[str, ...]) -> list[Problem]:
    f = deal.fields
    problems = [Problem(name, f"{label(name)} is empty")
                for name in required if is_blank(f.get(name))]
    blank = {p.field for p in problems}

    currency = str(f.get("CurrencyIsoCode") or "").strip().upper()
    if "CurrencyIsoCode" not in blank and currency and not is_known_currency(currency):
        problems.append(Problem("CurrencyIsoCode", f"{currency} is not a known ISO 4217 currency"))
        currency = ""

    amount = parse_decimal(f.get("Amount"))
    if amount is None:
        problems.append(Problem("Amount", "Amount is empty or not a number"))
    elif amount <= 0:
        problems.append(Problem("Amount", f"Amount is {format_amount(amount, currency)}; a "
                                          "closed-won deal needs a value"))
    elif currency and _too_precise(amount, currency):
        problems.append(Problem("Amount", f"Amount {format_amount(amount, currency)} has more "
                                          f"decimals than {currency} allows"))

    start = parse_date(f.get("Contract_Start_Date__c"))
    end = parse_date(f.get("Contract_End_Date__c"))
    for name, parsed in (("Contract_Start_Date__c", start), ("Contract_End_Date__c", end)):
        if parsed is None and name not in blank and not is_blank(f.get(name)):
            problems.append(Problem(name, f"{label(name)} is not a date"))
    if start and end and end <= start:
        problems.append(
            Problem("Contract_End_Date__c", f"Contract ends ({end}) before it starts ({start})")
        )

    cadence = f.get("Billing_Cadence__c")
    if not is_blank(cadence) and parse_cadence(cadence) is None:
        problems.append(
            Problem("Billing_Cadence__c",
                    f"Billing Cadence {cadence!r} is not Monthly, Quarterly or Annual")
        )
    terms = f.get("Payment_Terms__c")
    if not is_blank(terms) and parse_payment_terms(terms) is None:
        problems.append(
            Problem("Payment_Terms__c",
                    f"Payment Terms {terms!r} is not 'Net N' or 'Due on receipt'")
        )

    problems += _check_lines(deal, amount, currency)
    return problems


def _too_precise(amount: Decimal, currency: str) -> bool:
    scaled = amount.scaleb(exponent(currency))
    return scaled != scaled.to_integral_value()


def _check_lines(deal: DealRecord, amount: Decimal | None, currency: str) -> list[Problem]:
    if not deal.lines:
        return [Problem("OpportunityLineItems", "The deal has no products (line items)")]
    problems: list[Problem] = []
    total = Decimal(0)
    ids = Counter(str(line.get("Id")) for line in deal.lines)
    signatures: Counter[tuple[str, ...]] = Counter()
    for n, line in enumerate(deal.lines, start=1):
        line_label = (f"Line {n} "
                      f"({line.get('Product2.Name') or line.get('Name') or 'unnamed product'})")
        if ids[str(line.get("Id"))] > 1:
            problems.append(Problem("OpportunityLineItems", f"{line_label} appears twice"))
        qty = parse_decimal(line.get("Quantity"))
        if qty is None or qty <= 0 or qty != qty.to_integral_value():
            problems.append(
                Problem("Quantity", f"{line_label}: quantity {qty} must be a whole number above 0")
            )
        price = parse_decimal(line.get("TotalPrice"))
        if price is None or price < 0:
            problems.append(
                Problem("TotalPrice", f"{line_label}: total price is missing or negative"))
        else:
            total += price
            if currency and _too_precise(price, currency):
                problems.append(Problem("TotalPrice", f"{line_label}: total price "
                                        f"{format_amount(price, currency)} has more decimals "
                                        f"than {currency} allows"))
        if parse_billing_type(line.get("Billing_Type__c")) is None:
            problems.append(
                Problem("Billing_Type__c",
                        f"{line_label}: Billing Type is not Recurring or One-Time")
            )
        signatures[
            (str(line.get("Product2Id") or line.get("Product2.Name")),
             str(line.get("ServiceDate")), str(line.get("Billing_Type__c")))
        ] += 1
    if any(count > 1 for count in signatures.values()):
        problems.append(
            Problem("OpportunityLineItems", "A product appears twice on the same dates")
        )
    if amount is not None and amount > 0 and not problems and total != amount:
        problems.append(
            Problem("Amount", f"Line items add up to {format_amount(total, currency)}, but the "
                              f"deal Amount is {format_amount(amount, currency)}")
        )
    return problems
