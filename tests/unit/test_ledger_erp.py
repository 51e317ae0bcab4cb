"""`LedgerErp`: the canonical models land in the ledger under their upstream keys."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sync.connectors.ledger import LedgerErp
from sync.errors import PermanentError
from sync.ledger import Ledger
from sync.ledger.accounts import CUSTOMER_CREDIT, DEFERRED_REVENUE, RECEIVABLE
from sync.model import (
    BillingPlan,
    Cadence,
    Contract,
    CreditNote,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Obligation,
    Payment,
    PricingModel,
    Recognition,
)
from sync.ports import Erp

ACME = Customer(crm_account_id="001ACME", name="Acme Corp")


def contract() -> Contract:
    common = {"pricing": PricingModel.FLAT, "quantity": 1}
    return Contract(
        opportunity_id="006DEAL", version=1, name="Acme platform", customer=ACME,
        billing=BillingPlan(
            cadence=Cadence.ANNUAL, start=date(2024, 1, 1), end=date(2024, 10, 31),
            payment_terms_days=30, currency="USD",
        ),
        obligations=(
            Obligation(
                line_id="00kIMPL", product="Implementation", recurring=False,
                list_unit_minor=2_000_000, unit_minor=2_000_000, amount_minor=2_000_000,
                service_start=date(2024, 1, 15), service_end=date(2024, 1, 15),
                recognition=Recognition.POINT_IN_TIME, **common,
            ),
            Obligation(
                line_id="00kSUB", product="Platform", recurring=True, list_unit_minor=1_000_000,
                unit_minor=1_000_000, amount_minor=10_000_000, periods=10,
                service_start=date(2024, 1, 1), service_end=date(2024, 10, 31),
                recognition=Recognition.RATABLE, **common,
            ),
        ),
        total_minor=12_000_000,
    )


def stripe_invoice() -> Invoice:
    return Invoice(
        billing_id="in_1", number="ACME-0001", billing_customer_id="cus_1", currency="USD",
        total_minor=12_000_000, amount_due_minor=12_000_000, amount_paid_minor=0,
        amount_remaining_minor=12_000_000, status=InvoiceStatus.OPEN,
        issued_on=date(2024, 1, 1), due_on=date(2024, 1, 31),
        lines=(
            InvoiceLine(description="Implementation", amount_minor=2_000_000, recurring=False),
            InvoiceLine(description="Platform", amount_minor=10_000_000, recurring=True),
        ),
    )


def test_deal_through_the_erp_port(sessions: sessionmaker[Session]) -> None:
    erp: Erp = LedgerErp(Ledger(sessions))
    assert erp.name == "ledger"
    customer_id = erp.upsert_customer(ACME, currency="USD")
    order_id = erp.upsert_sales_order(contract(), customer_id=customer_id)
    invoice_id = erp.post_invoice(
        stripe_invoice(), customer_id=customer_id, sales_order_id=order_id
    )
    paid_at = datetime(2024, 1, 20, tzinfo=UTC)
    erp.apply_payment(
        Payment(billing_id="py_1", invoice_billing_id="in_1", amount_minor=12_000_000,
                currency="USD", paid_at=paid_at),
        invoice_id=invoice_id,
    )
    erp.post_credit_memo(
        CreditNote(billing_id="cn_1", invoice_billing_id="in_1", amount_minor=100_000,
                   currency="USD", reason="Goodwill", created_at=paid_at),
        invoice_id=invoice_id,
    )
    assert (customer_id, order_id, invoice_id) == ("CUST-000001", "SO-000001", "INV-000001")
    assert isinstance(erp, LedgerErp) and erp.calls == 5

    ledger = erp.ledger
    view = ledger.invoice("in_1")
    assert view is not None
    assert view.sales_order_external_id == "006DEAL:v1" and view.customer_external_id == "001ACME"
    assert view.total_minor == 12_000_000 and view.open_minor == 0
    assert ledger.account_balance(DEFERRED_REVENUE, "USD") == 12_000_000
    assert ledger.account_balance(RECEIVABLE, "USD") == 0
    assert ledger.account_balance(CUSTOMER_CREDIT, "USD") == 100_000
    assert ledger.external_id_for("SO-000001") == "006DEAL:v1"

    # A retry of the whole deal finds every record.
    assert erp.upsert_sales_order(contract(), customer_id=customer_id) == order_id
    assert erp.post_invoice(
        stripe_invoice(), customer_id=customer_id, sales_order_id=order_id
    ) == invoice_id
    assert ledger.recognize_revenue(through=date(2024, 1, 31)) == 2


def test_an_amount_no_line_itemizes_is_refused_not_parked(sessions: sessionmaker[Session]) -> None:
    """Parking $10,000 the lines don't explain in deferred revenue would keep it there forever."""
    erp = LedgerErp(Ledger(sessions))
    customer_id = erp.upsert_customer(ACME, currency="USD")
    order_id = erp.upsert_sales_order(contract(), customer_id=customer_id)
    implementation = stripe_invoice().lines[0]
    platform = InvoiceLine(description="Platform", amount_minor=9_000_000, recurring=True)
    short = stripe_invoice().model_copy(update={"lines": (implementation, platform)})
    with pytest.raises(PermanentError, match=r"USD 10,000\.00 is on no line; it was not posted"):
        erp.post_invoice(short, customer_id=customer_id, sales_order_id=order_id)
    assert erp.ledger.invoice("in_1") is None
    assert erp.ledger.trial_balance("USD") == {}
