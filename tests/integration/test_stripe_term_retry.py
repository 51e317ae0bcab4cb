"""A 14-month term's schedule survives a crash: the attempt that made the subscription and its
schedule died before the phases were set; the retry, past Stripe's key window, looks before it
creates, sets the phases once, and a further retry changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox.stripe import StripeEmulator
from sync.connectors.stripe_billing import StripeBilling
from sync.dates import add_months
from sync.model import (
    BillingPlan,
    Cadence,
    Contract,
    Customer,
    Obligation,
    PricingModel,
    Recognition,
)

KEY = "closebot:006HOOLI:v1:bill"


def _midnight(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def _fourteen_months(start: date) -> Contract:
    """$140,000 over 14 months billed annually: $120,000 a year, then $20,000 for 2 months."""
    end = date.fromordinal(add_months(start, 14).toordinal() - 1)
    return Contract(
        opportunity_id="006HOOLI", version=1, name="Hooli platform",
        customer=Customer(crm_account_id="001HOOLI", name="Hooli"),
        billing=BillingPlan(cadence=Cadence.ANNUAL, start=start, end=end,
                            payment_terms_days=30, currency="USD"),
        obligations=(Obligation(
            line_id="00kPLAT", product="Platform", recurring=True, pricing=PricingModel.FLAT,
            quantity=1, list_unit_minor=12_000_000, unit_minor=12_000_000,
            amount_minor=14_000_000, periods=2, service_start=start, service_end=end,
            recognition=Recognition.RATABLE),),
        total_minor=14_000_000,
    )


def _phases(emu: StripeEmulator) -> list[tuple[int, int, int]]:
    (schedule,) = emu.objects("subscription_schedule")
    prices = {p["id"]: p["unit_amount"] for p in emu.objects("price")}
    return [(p["start_date"], p["end_date"], prices[p["items"][0]["price"]])
            for p in schedule["phases"]]


def test_a_retry_completes_the_schedule_once() -> None:
    with StripeEmulator() as emu:
        billing = StripeBilling(api_key=emu.api_key, api_base=emu.url)
        start = datetime.fromtimestamp(emu.now, UTC).date()
        contract = _fourteen_months(start)
        customer = billing.ensure_customer(contract.customer, key="k:customer", lookup=False)
        # The first attempt: the subscription and its schedule exist, then the worker died.
        first = billing._create_subscription(contract, customer_id=customer, key=KEY)
        billing._call("subscription_schedules.create", "post", "/v1/subscription_schedules",
                      {"from_subscription": first.subscription_id}, key=f"{KEY}:schedule")
        emu.app.idempotency.prune(emu.now + 2 * 86_400)  # Stripe forgets keys after 24 hours

        again = billing.ensure_contract(contract, customer_id=customer, key=KEY, lookup=True)
        renewal, end = add_months(start, 12), add_months(start, 14)
        expected = [(_midnight(start), _midnight(renewal), 12_000_000),
                    (_midnight(renewal), _midnight(end), 2_000_000)]
        assert again.subscription_id == first.subscription_id
        assert len(emu.objects("subscription")) == 1
        assert _phases(emu) == expected

        billing.ensure_contract(contract, customer_id=customer, key=KEY, lookup=True)
        assert len(emu.objects("subscription")) == 1
        assert _phases(emu) == expected
