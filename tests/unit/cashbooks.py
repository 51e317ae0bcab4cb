"""Helpers for the cash worked examples: a ledger with paid invoices, and Stripe's balance as
plain data (what `StripeCash` reads from the API, already in closebot's vocabulary)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.ledger import LedgerJournalEntry
from sync.ledger import InvoiceLineIn, Ledger
from sync.ports_cash import BalanceTxn, CashDispute, CashPayout

D = 100  # $1.00 in cents
DAY = date(2024, 3, 1)


def paid_invoice(ledger: Ledger, invoice_id: str, amount: int, *, paid: int | None = None) -> None:
    """A customer, an invoice of `amount`, and its payment (Dr Clearing / Cr AR) of `paid`."""
    customer = f"001{invoice_id}"
    ledger.upsert_customer(external_id=customer, name=f"Customer {invoice_id}", currency="USD")
    ledger.post_invoice(
        external_id=invoice_id, customer_external_id=customer, sales_order_external_id=None,
        number=None, currency="USD", issued_on=DAY, due_on=DAY,
        lines=[InvoiceLineIn("Platform", amount)],
    )
    ledger.apply_payment(
        external_id=f"{invoice_id}:paid", invoice_external_id=invoice_id,
        amount_minor=amount if paid is None else paid, currency="USD", paid_on=DAY,
    )


def charge(txn: str, invoice: str | None, amount: int, fee: int, payout: str) -> BalanceTxn:
    return BalanceTxn(txn, "charge", amount, fee, amount - fee, "USD", DAY, f"ch_{txn}",
                      invoice, payout)


def refund(txn: str, invoice: str | None, amount: int, payout: str) -> BalanceTxn:
    return BalanceTxn(txn, "refund", -amount, 0, -amount, "USD", DAY, f"re_{txn}", invoice, payout)


def dispute_out(txn: str, invoice: str, amount: int, fee: int, payout: str) -> BalanceTxn:
    return BalanceTxn(txn, "dispute", -amount, fee, -amount - fee, "USD", DAY, "dp_1", invoice,
                      payout)


def dispute_back(txn: str, invoice: str, amount: int, fee: int, payout: str) -> BalanceTxn:
    return BalanceTxn(txn, "dispute_reversal", amount, -fee, amount + fee, "USD", DAY, "dp_1",
                      invoice, payout)


@dataclass
class StripeBalance:
    """Payouts and the transactions each settled, as Stripe lists them."""

    settled: dict[str, tuple[CashPayout, list[BalanceTxn]]] = field(default_factory=dict)
    disputes_by_id: dict[str, CashDispute] = field(default_factory=dict)

    def pay_out(self, payout_id: str, amount: int, txns: list[BalanceTxn],
                status: str = "paid") -> CashPayout:
        payout = CashPayout(payout_id, amount, "USD", DAY, status)
        self.settled[payout_id] = (payout, txns)
        return payout

    def payouts(self, *, arrival_gte: date | None = None) -> Iterator[CashPayout]:
        for payout, _ in self.settled.values():
            yield payout

    def payout_transactions(self, payout_id: str) -> Iterator[BalanceTxn]:
        yield from self.settled[payout_id][1]

    def transactions(self, *, created_gte: date) -> Iterator[BalanceTxn]:
        for payout, txns in self.settled.values():
            yield from txns
            if payout.status in {"paid", "in_transit"}:
                yield BalanceTxn(f"txn_{payout.id}", "payout", -payout.amount_minor, 0,
                                 -payout.amount_minor, "USD", DAY, payout.id)

    def dispute(self, dispute_id: str) -> CashDispute:
        return self.disputes_by_id[dispute_id]

    def disputes(self, *, created_gte: date | None = None) -> Iterator[CashDispute]:
        yield from self.disputes_by_id.values()

    def balance(self) -> dict[str, int]:
        return {}


def entries(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(LedgerJournalEntry)) or 0
