"""Cash as closebot reads it from the billing system and posts it to an ERP: balance
transactions, payouts, refunds and disputes in vendor-neutral form, the postings they become, and
the two ports (`CashReads`, `CashErp`) that carry them.

Amounts are integer minor units, signed as the billing balance sees them: a charge adds to the
balance (positive), a refund, a dispute withdrawal or a payout takes from it (negative); `fee` is
what the processor kept (negative when it gave a fee back). `net = amount - fee` always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

# The accounts a cash posting names, by role; each ERP maps a role to its own account.
CLEARING = "clearing"
RECEIVABLE = "receivable"
CUSTOMER_CREDIT = "customer_credit"
PROCESSING_FEES = "processing_fees"
DISPUTED_FUNDS = "disputed_funds"
DISPUTE_FEES = "dispute_fees"
CHARGEBACK_LOSSES = "chargeback_losses"
CASH = "cash"
ROLES = (
    CLEARING, RECEIVABLE, CUSTOMER_CREDIT, PROCESSING_FEES, DISPUTED_FUNDS, DISPUTE_FEES,
    CHARGEBACK_LOSSES, CASH,
)

# A refund's credit memo is keyed by the refund (`refund:<re_…>`) in every ERP.
REFUND_MEMO = "refund:"

# What moved the balance (Stripe's `reporting_category`, which groups its many `type`s).
CHARGE, REFUND, REFUND_FAILURE = "charge", "refund", "refund_failure"
DISPUTE, DISPUTE_REVERSAL, PAYOUT, FEE = "dispute", "dispute_reversal", "payout", "fee"
PAYMENT_FAILURE = "payment_failure"


@dataclass(frozen=True)
class BalanceTxn:
    """One movement of the billing balance. `invoice_id` is the invoice the money was for (the
    charge's, the refunded charge's, the disputed charge's), None when no invoice explains it."""

    id: str
    category: str
    amount_minor: int
    fee_minor: int
    net_minor: int
    currency: str
    created_on: date
    source_id: str | None = None
    invoice_id: str | None = None
    payout_id: str | None = None
    # A charge names its billing customer instead: looking up each charge's invoice would cost
    # one call per charge (see sync/connectors/stripe_cash.py).
    customer_id: str | None = None


Customers = Callable[[str], bool]  # is this billing customer one closebot bills?


def no_customers(customer_id: str) -> bool:
    return False


@dataclass(frozen=True)
class CashPayout:
    id: str
    amount_minor: int
    currency: str
    arrival_on: date
    status: str  # pending | in_transit | paid | failed | canceled


@dataclass(frozen=True)
class CashDispute:
    id: str
    charge_id: str
    invoice_id: str | None
    amount_minor: int
    currency: str
    status: str  # needs_response | under_review | won | lost | …
    closed_on: date | None
    withdrawals: tuple[BalanceTxn, ...] = ()  # its balance transactions, oldest first


@dataclass(frozen=True)
class Leg:
    role: str
    debit: int = 0
    credit: int = 0


@dataclass(frozen=True)
class DepositLine:
    """One line of a payout's deposit: what one balance transaction added to or took from the
    payout (a charge's gross, its fee, a refund, a dispute withdrawal), signed as the balance
    sees it, so a payout's lines sum to its amount, the bank line."""

    amount_minor: int
    memo: str


@dataclass(frozen=True)
class CashPosting:
    """A balanced journal entry by account role, keyed by the billing object that caused it."""

    external_id: str
    memo: str
    posted_on: date
    currency: str
    source_ref: str
    legs: tuple[Leg, ...]
    # A refund's credit memo against its invoice, posted first (amount, invoice id), if any.
    credit_invoice: tuple[int, str] | None = field(default=None)
    # A payout's itemization, for an ERP whose deposit lists what it deposits.
    deposit_lines: tuple[DepositLine, ...] = field(default=())
    # The legal entity whose own Stripe account this movement is in (docs/entities.md); None
    # for the company's account.
    entity: str | None = None


class CashReads(Protocol):
    """Read-only access to the billing system's money movements, streamed page by page."""

    def payouts(self, *, arrival_gte: date | None = None) -> Iterator[CashPayout]: ...

    def payout_transactions(self, payout_id: str) -> Iterator[BalanceTxn]:
        """Every balance transaction a payout settled, the payout's own included."""
        ...

    def transactions(self, *, created_gte: date) -> Iterator[BalanceTxn]:
        """Every balance transaction since `created_gte`, paid out or not, newest first."""
        ...

    def dispute(self, dispute_id: str) -> CashDispute: ...

    def disputes(self, *, created_gte: date | None = None) -> Iterator[CashDispute]: ...

    def balance(self) -> dict[str, int]:
        """The billing balance per currency (available + pending), in minor units."""
        ...


class CashErp(Protocol):
    """What an ERP needs to record cash: postings by external ID, read back for the audit."""

    def has_invoice(self, invoice_id: str) -> bool: ...

    def post_cash(self, posting: CashPosting) -> str:
        """Post once: a repeat of the same external ID returns the first record's number."""
        ...

    def post_many(self, postings: Sequence[CashPosting]) -> None:
        """Post those not posted yet, together (none of them takes a credit memo)."""
        ...

    def posted(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Of these external IDs, those posted, each with its net effect on Clearing."""
        ...

    def clearing_balance(self, currency: str) -> int: ...


@dataclass(frozen=True)
class CashPorts:
    """The billing balance and the ERP that books it, when both are configured."""

    reads: CashReads
    erp: CashErp


@dataclass(frozen=True)
class Overpayment:
    """Money a customer paid beyond an invoice: unapplied cash, the customer's credit until a
    later invoice uses it (Dr Clearing / Cr Customer Credit). `key` identifies it in any ERP."""

    key: str
    invoice_id: str  # the billing invoice it arrived on
    amount_minor: int
    currency: str
    paid_on: date


@dataclass(frozen=True)
class CreditApplication:
    """The customer's credit settling part of an invoice (Dr Customer Credit / Cr AR)."""

    key: str
    invoice_id: str  # the billing invoice the credit settles
    amount_minor: int
    currency: str
    applied_on: date


@runtime_checkable
class UnappliedCash(Protocol):
    """An ERP that keeps a customer's overpayments as credit and applies it to later invoices.
    `erp_invoice` is the ERP's own reference for the invoice (as the post step links it)."""

    def record_overpayment(self, overpayment: Overpayment, *, erp_invoice: str) -> str: ...

    def apply_credit(self, application: CreditApplication, *, erp_invoice: str) -> str: ...
