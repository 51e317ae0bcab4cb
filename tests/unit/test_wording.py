"""Words people read outside Slack: the audit's report keeps each reason whole, validation
names fields by their labels and amounts with their currency, and Salesforce IDs are read in
every form Salesforce hands out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from app.cli import cli
from sandbox.book import BookSeeder, demo_deals
from sandbox.salesforce.ids import normalize as emulator_normalize
from sandbox.stack import SandboxStack
from sync.contracts.fields import label
from sync.contracts.terms import salesforce_id
from sync.money import format_amount


def test_the_audit_report_keeps_reasons_whole_and_writes_amounts_one_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme, globex = demo_deals()[:2]
    globex.extra = {"Payment_Terms__c": None, "Product_Line__c": None,
                    "Contract_End_Date__c": None}
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        seeder.seed(acme)
        seeder.seed(globex)
        for key, value in {**stack.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}.items():
            monkeypatch.setenv(key, value)
        assert CliRunner().invoke(cli, ["sync", "--once"]).exit_code == 0
        # Paid in Stripe after the pass: the ledger still has it open until the next one.
        client = stripe.StripeClient(stack.stripe.api_key,
                                     base_addresses={"api": stack.stripe.url})
        (invoice,) = client.v1.invoices.list().data
        client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True})
        result = CliRunner().invoke(cli, ["audit"])
    assert result.exit_code == 1
    reason = ("Deal Globex - Renewal can't be billed: Contract End Date is empty; Billing "
              "Cadence is empty; Payment Terms is empty; Product Line is empty")
    assert f"({reason}) has no Slack alert" in result.stdout
    number = invoice.number
    assert (f"invoice {number}: the ledger holds USD 120,000.00 receivable but Stripe says "
            "USD 0.00 is still to pay (the invoice is paid)") in result.stdout


@pytest.mark.parametrize(("name", "expected"), [
    ("Billing_Cadence__c", "Billing Cadence"), ("CurrencyIsoCode", "Currency"),
    ("Account.Billing_Email__c", "Billing Email"), ("Region_Code__c", "Region Code"),
    ("TotalPrice", "Total Price"),
])
def test_labels(name: str, expected: str) -> None:
    assert label(name) == expected


@pytest.mark.parametrize(("value", "currency", "expected"), [
    (Decimal("120000"), "USD", "USD 120,000.00"), (Decimal("100.005"), "USD", "USD 100.005"),
    (Decimal("5000"), "JPY", "JPY 5,000"), (Decimal("1.5"), None, "1.5"),
    (Decimal("-20"), "EUR", "EUR -20.00"),
])
def test_amounts_read_one_way(value: Decimal, currency: str | None, expected: str) -> None:
    assert format_amount(value, currency) == expected


def test_salesforce_ids_in_every_form() -> None:
    assert salesforce_id("0068d000000000E") == "0068d000000000EAAQ"
    assert salesforce_id("0068D000000000eaaq") == "0068d000000000EAAQ"
    assert salesforce_id("  0068d000000000EAAQ ") == "0068d000000000EAAQ"
    for text in ("Acme Corp", "0068d000000000", "0068d000000000E!AQ", "in_1VHFcVirS7ueoVICPU"):
        assert salesforce_id(text) is None, text


@given(st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
               min_size=15, max_size=15))
def test_salesforce_ids_agree_with_the_emulator(id15: str) -> None:
    full = emulator_normalize(id15)
    assert salesforce_id(id15) == full
    assert full is not None and salesforce_id(full.lower()) == full
    assert salesforce_id(full.upper()) == full
