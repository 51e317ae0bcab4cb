"""A refund's invoice without a call to Stripe: the `invoice_payment.paid` events closebot
polls leave each payment intent's invoice in `payment_invoices`, and the cash reads take it
from there, asking Stripe only for a payment closebot never saw pay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bench.cash_seed import seed
from sandbox.stripe import StripeEmulator
from storage.db import transaction
from sync.cash.payment_invoices import KnownPayments, remember
from sync.connectors.stripe_billing import StripeBilling
from sync.connectors.stripe_cash import StripeCash


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[StripeEmulator, list[tuple[str, str, int, list[str]]]]]:
    with StripeEmulator() as emu:
        # 250 charges in two payouts of 125; the 200th is refunded (a quarter of it): the one
        # refund, in the second payout, of a charge that paid the second payout's invoice.
        made = seed(emu.state, 250, 125)
        for row in emu.state.all("invoice_payment"):
            emu.state.emit("invoice_payment.paid", row)  # as Stripe does once it is paid
        yield emu, made


def _kept_from_events(emu: StripeEmulator, sessions: sessionmaker[Session]) -> int:
    billing = StripeBilling(api_key=emu.api_key, api_base=emu.url)
    pairs = [p for e in billing.events(created_gte=None).events if (p := e.paid_by())]
    with transaction(sessions) as session:
        return remember(session, pairs)


def _refunds(reads: StripeCash) -> list[tuple[str, str | None]]:
    return [(t.source_id or "", t.invoice_id) for po in reads.payouts()
            for t in reads.payout_transactions(po.id) if t.category == "refund"]


def test_a_refund_finds_its_invoice_locally(emulator, sessions) -> None:
    emu, made = emulator
    refunded_invoice = made[1][1]
    # The one invoice payment Stripe shows (the refunded charge's) is kept once: a replay of
    # the same events keeps nothing new.
    assert _kept_from_events(emu, sessions) == 1
    assert _kept_from_events(emu, sessions) == 0
    reads = StripeCash(api_key=emu.api_key, api_base=emu.url, known=KnownPayments(sessions))
    refunds = _refunds(reads)
    assert [invoice for _, invoice in refunds] == [refunded_invoice]
    # Floor only: the payouts page and two pages of transactions per payout, no lookup.
    assert reads.calls["invoice_payments.list"] == 0
    assert sum(reads.calls.values()) == 1 + 2 * 2


def test_an_unseen_payment_is_looked_up_in_stripe(emulator, sessions) -> None:
    emu, made = emulator
    reads = StripeCash(api_key=emu.api_key, api_base=emu.url, known=KnownPayments(sessions))
    assert [invoice for _, invoice in _refunds(reads)] == [made[1][1]]
    assert reads.calls["invoice_payments.list"] == 1
