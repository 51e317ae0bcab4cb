"""Invoice lines as Stripe sends them (tax, products) and the obligations they bill."""

from __future__ import annotations

from datetime import date
from typing import Any

from sync.connectors.stripe_objects import to_invoice
from sync.contracts.billed_lines import attribute, unexplained_reason
from sync.revenue.earned import earned_by
from tests.unit.test_ledger_erp import contract

NAMES = {"prod_impl": "Implementation", "prod_platform": "Platform"}


def stripe_line(amount: int, product: str | None, *taxes: tuple[int, str],
                recurring: bool = False, period: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    return {
        "amount": amount, "description": f"line {amount}",
        "parent": {"type": "subscription_item_details" if recurring else "invoice_item_details"},
        "period": {"start": period[0], "end": period[1]},
        "pricing": {"price_details": {"product": product} if product else None},
        "taxes": [{"amount": a, "tax_behavior": b, "type": "tax_rate_details"}
                  for a, b in taxes],
    }


def stripe_invoice(*lines: dict[str, Any], total: int) -> dict[str, Any]:
    return {"id": "in_1", "number": "ACME-0002", "customer": "cus_1", "currency": "usd",
            "total": total, "amount_due": total, "amount_remaining": total, "status": "open",
            "lines": {"data": list(lines)}}


def test_tax_is_read_per_line_and_inclusive_tax_taken_out_of_the_amount() -> None:
    data = stripe_invoice(
        stripe_line(10_000_000, "prod_platform", (887_500, "exclusive"), recurring=True,
                    period=(1_704_067_200, 1_735_689_600)),  # 2024-01-01 to 2025-01-01
        stripe_line(12_000, "prod_impl", (2_000, "inclusive")),
        total=10_000_000 + 887_500 + 12_000)
    invoice = to_invoice(data, NAMES.get)
    platform, implementation = invoice.lines
    assert (platform.amount_minor, platform.tax_minor, platform.product) == (
        10_000_000, 887_500, "Platform")
    assert (platform.period_start, platform.period_end) == (date(2024, 1, 1), date(2025, 1, 1))
    assert (implementation.amount_minor, implementation.tax_minor) == (10_000, 2_000)
    assert (invoice.tax_minor, invoice.unitemized_minor) == (889_500, 0)
    assert to_invoice(data).lines[0].product is None  # no names without a resolver


def test_each_line_bills_an_obligation_or_is_named_for_a_person() -> None:
    billed = to_invoice(stripe_invoice(
        stripe_line(2_000_000, "prod_impl"),
        stripe_line(10_000_000, "prod_platform", recurring=True,
                    period=(1_704_067_200, 1_735_689_600)),
        stripe_line(50_000, None), total=12_050_000), NAMES.get)
    invoice, problems = attribute(billed, [contract()])
    assert [ln.obligation_id for ln in invoice.lines] == ["00kIMPL", "00kSUB", None]
    assert problems == ['its line "line 50000" for USD 500.00 bills no product of the '
                        "opportunity"]
    short = billed.model_copy(update={"total_minor": 12_060_000, "lines": invoice.lines[:2]})
    assert attribute(short, [contract()])[1] == ["USD 600.00 of its total is on no line"]
    reason = unexplained_reason(invoice, problems)
    assert reason.startswith("Stripe invoice ACME-0002 was not posted to the ERP: its line")
    assert reason.endswith("then press Retry.")


def test_earned_by_a_day_follows_the_obligation_plan() -> None:
    billed = to_invoice(stripe_invoice(
        stripe_line(2_000_000, "prod_impl"),
        stripe_line(10_000_000, "prod_platform", recurring=True,
                    period=(1_704_067_200, 1_735_689_600)), total=12_000_000), NAMES.get)
    invoice, _ = attribute(billed, [contract()])
    implementation, platform = contract().obligations
    on = date(2024, 4, 1)  # three subscription months done; implementation delivered Jan 15
    assert earned_by(invoice.lines[0], implementation, on=on) == 2_000_000
    assert earned_by(invoice.lines[1], platform, on=on) == 3_000_000
    assert earned_by(invoice.lines[1], None, on=on) == 0
