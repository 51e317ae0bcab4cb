"""From a billing balance transaction to the journal entry it becomes, by account role.

The rules (the same on every ERP; docs/cash.md has them as a table):
- charge: the gross was posted when the payment was applied to its invoice (Dr Clearing / Cr
  AR), so only the processor's fee is new: Dr Payment Processing Fees / Cr Clearing.
- refund: a credit memo against the invoice (on a paid invoice it becomes a customer credit),
  then Dr Customer Credit / Cr Clearing when the money leaves the balance; a fee given back is
  Dr Clearing / Cr Payment Processing Fees. A refund that fails puts the money back in Clearing
  and the customer is still owed it (Dr Clearing / Cr Customer Credit).
- dispute: the disputed amount and the dispute fee leave Clearing (Dr Disputed Funds, Dr Dispute
  Fees / Cr Clearing); a won dispute returns them (the reverse, for what was returned); a lost one
  is written off (`dispute_loss`).
- payout: Dr Cash / Cr Clearing for the payout's amount; a failed payout comes back.
Every entry is keyed by the balance transaction's ID, so posting it again finds the first.
"""

from __future__ import annotations

from datetime import date

from sync.money import format_money
from sync.ports_cash import (
    CASH,
    CHARGE,
    CHARGEBACK_LOSSES,
    CLEARING,
    CUSTOMER_CREDIT,
    DISPUTE,
    DISPUTE_FEES,
    DISPUTE_REVERSAL,
    DISPUTED_FUNDS,
    FEE,
    PAYMENT_FAILURE,
    PAYOUT,
    PROCESSING_FEES,
    REFUND,
    REFUND_FAILURE,
    BalanceTxn,
    CashDispute,
    CashPosting,
    Leg,
)


class CashInputError(ValueError):
    """A money movement closebot can't book by itself; `reason` tells finance what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fee_legs(fee: int, expense: str) -> list[Leg]:
    """A fee kept (positive) costs an expense; a fee given back (negative) reduces it."""
    if fee > 0:
        return [Leg(expense, debit=fee), Leg(CLEARING, credit=fee)]
    if fee < 0:
        return [Leg(CLEARING, debit=-fee), Leg(expense, credit=-fee)]
    return []


def _money_legs(amount: int, other: str) -> list[Leg]:
    """Money into the balance (positive) is Dr Clearing / Cr `other`; out of it the reverse."""
    if amount > 0:
        return [Leg(CLEARING, debit=amount), Leg(other, credit=amount)]
    if amount < 0:
        return [Leg(other, debit=-amount), Leg(CLEARING, credit=-amount)]
    return []


def needs_invoice(txn: BalanceTxn) -> bool:
    return txn.category in {CHARGE, REFUND, PAYMENT_FAILURE}


def _legs(txn: BalanceTxn) -> list[Leg]:
    category, amount, fee = txn.category, txn.amount_minor, txn.fee_minor
    if category in {CHARGE, PAYMENT_FAILURE}:
        # The gross moves with the invoice's payment (applied, or never applied for a bank
        # debit that failed), so only the fee is this transaction's own.
        return _fee_legs(fee, PROCESSING_FEES)
    if category in {REFUND, REFUND_FAILURE}:
        return _money_legs(amount, CUSTOMER_CREDIT) + _fee_legs(fee, PROCESSING_FEES)
    if category in {DISPUTE, DISPUTE_REVERSAL}:
        return _money_legs(amount, DISPUTED_FUNDS) + _fee_legs(fee, DISPUTE_FEES)
    if category == FEE:
        return _money_legs(amount - fee, PROCESSING_FEES) + _fee_legs(fee, PROCESSING_FEES)
    if category == PAYOUT:
        return _money_legs(amount, CASH)
    raise CashInputError(
        f"balance transaction {txn.id} of {format_money(txn.net_minor, txn.currency)} is of a "
        f"kind closebot doesn't book ({category}): book it by hand"
    )


def for_transaction(txn: BalanceTxn) -> CashPosting | None:
    """The entry one balance transaction becomes, or None when it moves nothing new."""
    if txn.amount_minor - txn.fee_minor != txn.net_minor:
        raise CashInputError(
            f"balance transaction {txn.id} doesn't add up: amount "
            f"{format_money(txn.amount_minor, txn.currency)} less fee "
            f"{format_money(txn.fee_minor, txn.currency)} isn't its net "
            f"{format_money(txn.net_minor, txn.currency)}; ask Stripe support"
        )
    legs = _legs(txn)
    if not legs:
        return None
    credit = None
    if txn.category == REFUND and txn.invoice_id is not None:
        credit = (-txn.amount_minor, txn.invoice_id)
    return CashPosting(
        external_id=f"stripe:{txn.id}",
        memo=f"{txn.category} {txn.source_id or txn.id}",
        posted_on=txn.created_on,
        currency=txn.currency,
        source_ref=txn.source_id or txn.id,
        legs=tuple(_merge(legs)),
        credit_invoice=credit,
    )


def _merge(legs: list[Leg]) -> list[Leg]:
    """One line per account and side, so an entry reads as an accountant would write it."""
    merged: dict[tuple[str, bool], int] = {}
    for leg in legs:
        key = (leg.role, leg.debit > 0)
        merged[key] = merged.get(key, 0) + leg.debit + leg.credit
    return [Leg(role, debit=v) if dr else Leg(role, credit=v) for (role, dr), v in merged.items()]


def dispute_loss(dispute: CashDispute, *, on: date) -> CashPosting:
    """A lost dispute: the withdrawn amount is a loss (Dr Chargeback Losses / Cr Disputed
    Funds). The invoice stays paid (the customer did pay; the card network took it back), and the
    dispute fee stays an expense."""
    withdrawn = -sum(t.amount_minor for t in dispute.withdrawals if t.category == DISPUTE)
    returned = sum(t.amount_minor for t in dispute.withdrawals if t.category == DISPUTE_REVERSAL)
    lost = withdrawn - returned
    if lost <= 0:
        raise CashInputError(
            f"dispute {dispute.id} is lost but Stripe shows no money withdrawn for it yet; "
            "closebot will book the loss once the withdrawal appears"
        )
    return CashPosting(
        external_id=f"stripe:{dispute.id}:lost",
        memo=f"dispute {dispute.id} lost",
        posted_on=on,
        currency=dispute.currency,
        source_ref=dispute.id,
        legs=(Leg(CHARGEBACK_LOSSES, debit=lost), Leg(DISPUTED_FUNDS, credit=lost)),
    )


def clearing_effect(posting: CashPosting) -> int:
    return sum(leg.debit - leg.credit for leg in posting.legs if leg.role == CLEARING)
