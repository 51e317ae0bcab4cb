"""The chart of accounts, and seeding it into a database that doesn't have it yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ledger import LedgerAccount

CASH = "1000"
RECEIVABLE = "1100"
STRIPE_CLEARING = "1200"
DISPUTED_FUNDS = "1300"
DEFERRED_REVENUE = "2100"
CUSTOMER_CREDIT = "2200"
SALES_TAX_PAYABLE = "2300"
SUBSCRIPTION_REVENUE = "4000"
SERVICES_REVENUE = "4100"
CREDITS_ALLOWANCES = "4900"
PROCESSING_FEES = "6100"
BAD_DEBT_EXPENSE = "6200"
DISPUTE_FEES = "6300"
CHARGEBACK_LOSSES = "6400"
REALIZED_FX = "7100"
UNREALIZED_FX = "7110"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    kind: str
    normal: str  # the side that increases the balance


CHART: tuple[Account, ...] = (
    Account(CASH, "Cash", "asset", "debit"),
    Account(RECEIVABLE, "Accounts Receivable", "asset", "debit"),
    # Card and ACH money on its way from Stripe to the bank: cash only once the payout settles.
    Account(STRIPE_CLEARING, "Stripe Clearing", "asset", "debit"),
    # Money a card network took back while a dispute is open: still ours until the dispute is lost.
    Account(DISPUTED_FUNDS, "Disputed Funds", "asset", "debit"),
    Account(DEFERRED_REVENUE, "Deferred Revenue", "liability", "credit"),
    Account(CUSTOMER_CREDIT, "Customer Credit Balances", "liability", "credit"),
    # Tax billed on invoices is owed to the tax authority: never revenue, never deferred.
    Account(SALES_TAX_PAYABLE, "Sales Tax Payable", "liability", "credit"),
    Account(SUBSCRIPTION_REVENUE, "Subscription Revenue", "revenue", "credit"),
    Account(SERVICES_REVENUE, "Services Revenue", "revenue", "credit"),
    # Contra revenue: reduces revenue on the income statement, so it carries a debit balance.
    Account(CREDITS_ALLOWANCES, "Credits & Allowances", "contra_revenue", "debit"),
    Account(PROCESSING_FEES, "Payment Processing Fees", "expense", "debit"),
    # A receivable written off as uncollectible (credit loss); the revenue earned stays.
    Account(BAD_DEBT_EXPENSE, "Bad Debt Expense", "expense", "debit"),
    Account(DISPUTE_FEES, "Dispute Fees", "expense", "debit"),
    # A dispute lost: the invoice stays paid, the money taken back is a loss.
    Account(CHARGEBACK_LOSSES, "Chargeback Losses", "expense", "debit"),
    # A receivable settled at another exchange rate than it was booked at: the difference, in
    # the functional currency only (a credit balance is a gain).
    Account(REALIZED_FX, "Realized FX Gain/Loss", "other_income", "credit"),
    # An open foreign-currency balance remeasured at a period-end rate: the difference, in the
    # functional currency only, reversed the next day (a credit balance is a gain).
    Account(UNREALIZED_FX, "Unrealized FX Gain/Loss", "other_income", "credit"),
)
BY_CODE = {a.code: a for a in CHART}


def revenue_account(*, recurring: bool) -> str:
    """Recurring obligations are subscription revenue; one-time ones (implementation) services."""
    return SUBSCRIPTION_REVENUE if recurring else SERVICES_REVENUE


def seed_chart(session: Session) -> int:
    """Insert the accounts missing from the chart; returns how many were added."""
    present = set(session.scalars(select(LedgerAccount.code)))
    missing = [a for a in CHART if a.code not in present]
    session.add_all(
        LedgerAccount(code=a.code, name=a.name, kind=a.kind, normal=a.normal) for a in missing
    )
    return len(missing)
