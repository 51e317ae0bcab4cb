"""Typed ledger errors: business refusals, never retried."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal the ledger makes."""


class UnbalancedEntryError(LedgerError):
    """A journal entry whose debits and credits don't add up to the same positive total."""


class OverpaymentError(LedgerError):
    """A payment larger than the invoice's open balance."""


class OverCreditError(LedgerError):
    """Credits adding up to more than the invoice they are against."""


class CurrencyMismatchError(LedgerError):
    """A record in a different currency from the record it applies to."""


class NotFoundError(LedgerError):
    """A reference to a record the ledger doesn't have (yet)."""
