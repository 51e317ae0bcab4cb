"""The daily digest posts the three-way tie-out the nightly reconciliation kept: each
currency's figures, then each variance with its records (values escaped for Slack)."""

from __future__ import annotations

from storage.db import transaction
from sync.ops import digest
from sync.ops.audit_variance import Side, Variance
from sync.ops.tieout import keep
from tests.handlers.conftest import Harness
from tests.handlers.test_alerts import flat

# Salesforce books 3,500.00; Stripe billed 3,400.00 and bills 100.00 more; the ERP invoiced
# 3,400.00 of which 2,400.00 is open; Stripe holds 50.00, Clearing 30.00 with 20.00 to book.
TOTALS = {"USD": {"booked": 350_000, "billed": 340_000, "scheduled": 10_000,
                  "erp_invoiced": 340_000, "erp_receivable": 240_000,
                  "stripe_balance": 5_000, "clearing": 3_000, "clearing_to_book": 2_000}}


def test_the_digest_posts_the_reconciliation_figures(harness: Harness) -> None:
    digest.post_digest(harness.surface.deps)
    harness.surface.flush()
    (before,) = harness.recorder.messages("C0DIGEST")
    assert "the nightly reconciliation hasn't run yet" in flat(before["blocks"])
    variance = Variance(
        "crm_balance_mismatch", "Acme <Renewal>: Salesforce shows USD 100.00 outstanding but "
        "Stripe says USD 0.00", "006000000000001AAA",
        (Side("Salesforce", "opportunity Outstanding_Balance__c", 10_000, "USD",
              "006000000000001AAA"), Side("Stripe", "open invoices", 0, "USD", "in_1")))
    with transaction(harness.sessions) as session:
        keep(session, TOTALS, [variance])
    digest.post_digest(harness.surface.deps)
    harness.surface.flush()
    (posted,) = harness.recorder.messages("C0DIGEST")  # the same day's message, edited
    text = flat(posted["blocks"])
    for line in ("Three-way tie-out, USD",
                 "*Booked (Salesforce)*\nUSD 3,500.00",
                 "*Billed (Stripe)*\nUSD 3,400.00 + USD 100.00 still to bill",
                 "*Invoiced (ERP)*\nUSD 3,400.00 · USD 2,400.00 receivable",
                 "*Deposits (ERP)*\nUSD 0.00 · USD 0.00 matched in the bank",
                 "*Stripe balance*\nUSD 50.00",
                 "*Stripe Clearing*\nUSD 30.00 + USD 20.00 to book",
                 "Acme &lt;Renewal&gt;: Salesforce shows USD 100.00 outstanding",
                 "records: Salesforce 006000000000001AAA, Stripe in_1"):
        assert line in text, line


def test_the_digest_shows_each_entity_beside_the_total(harness: Harness) -> None:
    # Acme Inc booked and billed USD 1,200.00 and invoiced it; Acme Ltd booked GBP 600.00,
    # billed 500.00 (100.00 still to bill), invoiced 500.00, one variance.
    entities = {
        "Acme Inc": {"totals": {"USD": {"booked": 120_000, "billed": 120_000,
                                        "erp_invoiced": 120_000}}, "variances": 0},
        "Acme Ltd": {"totals": {"GBP": {"booked": 60_000, "billed": 50_000, "scheduled": 10_000,
                                        "erp_invoiced": 50_000}}, "variances": 1},
    }
    totals = {"USD": {"booked": 120_000}, "GBP": {"booked": 60_000}}
    with transaction(harness.sessions) as session:
        keep(session, totals, [], entities=entities)
    digest.post_digest(harness.surface.deps)
    harness.surface.flush()
    (posted,) = harness.recorder.messages("C0DIGEST")
    text = flat(posted["blocks"])
    assert ("*Acme Inc*, USD: booked USD 1,200.00 · billed USD 1,200.00 · invoiced USD 1,200.00 "
            "· 0 variance(s)") in text
    assert ("*Acme Ltd*, GBP: booked GBP 600.00 · billed GBP 600.00 · invoiced GBP 500.00 "
            "· 1 variance(s)") in text
    assert "Three-way tie-out, GBP" in text and "Three-way tie-out, USD" in text
