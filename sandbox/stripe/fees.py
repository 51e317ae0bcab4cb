"""The emulator's fee model, in one place (Stripe's US standard pricing, in minor units).

- Cards: 2.9% + 30¢ per successful charge, the percentage rounded half up.
- ACH Direct Debit (`us_bank_account`): 0.8%, rounded half up, capped at $5.00.
- Disputes: $15.00 per dispute, withdrawn with the disputed amount and given back if it is won.
- Refunds and payouts cost nothing, and a refund does not give the original charge's fee back.

Fees are charged in the charge's currency with the same figures whatever the currency, which is
simpler than Stripe's per-country pricing and documented as a deviation in docs/stripe-emulator.md.
"""

from __future__ import annotations

from typing import Any

CARD_RATE_PER_MILLE = 29  # 2.9%
CARD_FIXED = 30
ACH_RATE_PER_MILLE = 8  # 0.8%
ACH_CAP = 500
DISPUTE_FEE = 1_500


def _per_mille(amount: int, rate: int) -> int:
    return (amount * rate + 500) // 1000


def card_fee(amount: int) -> int:
    return _per_mille(amount, CARD_RATE_PER_MILLE) + CARD_FIXED


def ach_fee(amount: int) -> int:
    return min(_per_mille(amount, ACH_RATE_PER_MILLE), ACH_CAP)


def processing_fee(method_type: str, amount: int) -> int:
    """The fee on a successful payment of `amount` by a payment method of `method_type`."""
    return ach_fee(amount) if method_type == "us_bank_account" else card_fee(amount)


def fee_details(fee: int, currency: str, description: str) -> list[dict[str, Any]]:
    """A balance transaction's `fee_details`: one `stripe_fee` row, none when there is no fee."""
    if not fee:
        return []
    return [{"amount": fee, "application": None, "currency": currency,
             "description": description, "type": "stripe_fee"}]
