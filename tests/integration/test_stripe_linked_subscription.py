"""A subscription closebot already linked is read back with its lines' products named.

Under replicas a bill attempt can create the subscription and record its link, then lose its
lease; the next attempt (on another worker, whose product cache is empty) reads the linked
subscription instead of creating it. Its open first invoice goes to the mirror and from there to
the ERP, where each line must name the product it bills: a line read without its product bills
"no product of the opportunity" and the deal could not be posted, for no reason a person can fix.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sandbox.stripe import StripeEmulator
from sync.connectors.stripe_billing import StripeBilling
from sync.contracts.billed_lines import attribute
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

KEY = "closebot:006INIT:v1:bill"


def _contract(start: date) -> Contract:
    """Initech: Platform $120,000.00 a year for one year, Onboarding $5,000.00 once.
    The first invoice: 120,000.00 + 5,000.00 = USD 125,000.00, both lines explained."""
    end = date.fromordinal(add_months(start, 12).toordinal() - 1)
    return Contract(
        opportunity_id="006INIT", version=1, name="Initech platform",
        customer=Customer(crm_account_id="001INIT", name="Initech"),
        billing=BillingPlan(cadence=Cadence.ANNUAL, start=start, end=end,
                            payment_terms_days=30, currency="USD"),
        obligations=(
            Obligation(line_id="00kPLAT", product="Platform", recurring=True,
                       pricing=PricingModel.FLAT, quantity=1, list_unit_minor=12_000_000,
                       unit_minor=12_000_000, amount_minor=12_000_000, periods=1,
                       service_start=start, service_end=end, recognition=Recognition.RATABLE),
            Obligation(line_id="00kONB", product="Onboarding", recurring=False,
                       pricing=PricingModel.FLAT, quantity=1, list_unit_minor=500_000,
                       unit_minor=500_000, amount_minor=500_000, service_start=start,
                       service_end=start, recognition=Recognition.POINT_IN_TIME),
        ),
        total_minor=12_500_000,
    )


def test_a_linked_subscription_is_read_with_its_products_named() -> None:
    with StripeEmulator() as emu:
        first = StripeBilling(api_key=emu.api_key, api_base=emu.url)
        contract = _contract(datetime.fromtimestamp(emu.now, UTC).date())
        customer = first.ensure_customer(contract.customer, key="k:customer", lookup=False)
        made = first.ensure_contract(contract, customer_id=customer, key=KEY, lookup=False)
        assert made.subscription_id is not None

        # Another replica: a fresh client, nothing cached.
        found = StripeBilling(api_key=emu.api_key, api_base=emu.url).subscription(
            made.subscription_id)
        (invoice,) = found.invoices
        assert invoice.total_minor == 12_500_000
        assert sorted((ln.product, ln.amount_minor) for ln in invoice.lines) == [
            ("Onboarding", 500_000), ("Platform", 12_000_000)]
        attributed, problems = attribute(invoice, [contract])
        assert problems == []
        assert sorted(ln.obligation_id or "" for ln in attributed.lines) == ["00kONB", "00kPLAT"]
