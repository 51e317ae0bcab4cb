"""The cash run's Stripe reads (`StripeGet`) against the emulator: pages decoded once, the
SDK's query encoding, and failures as closebot's errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.cash_seed import seed
from sandbox.stripe import StripeEmulator
from sync.connectors.stripe_cash import StripeCash
from sync.connectors.stripe_get import encode
from sync.errors import CredentialsRefused, PermanentError


@pytest.fixture(scope="module")
def emulator() -> Iterator[StripeEmulator]:
    with StripeEmulator() as emu:
        # 250 charges, a payout per 125: each payout settles 125 charges, one refund (every
        # 200th charge) in the first, and the payout's own withdrawal.
        seed(emu.state, 250, 125)
        yield emu


def test_query_encoding_is_stripes() -> None:
    assert list(encode({"payout": "po_1", "expand": ["data.source"], "limit": 100,
                        "created": {"gte": 5}, "x": None, "flag": True})) == [
        ("payout", "po_1"), ("expand[0]", "data.source"), ("limit", "100"),
        ("created[gte]", "5"), ("flag", "true")]


def test_every_payout_reads_back_and_nets_to_zero(emulator: StripeEmulator) -> None:
    reads = StripeCash(api_key=emulator.api_key, api_base=emulator.url)
    payouts = list(reads.payouts())
    assert len(payouts) == 2
    for po in payouts:
        txns = list(reads.payout_transactions(po.id))
        # 125 charges, the payout, and in the first payout one refund: 126 or 127 lines,
        # two pages of 100, and the lines net to zero to the cent.
        assert len(txns) in (126, 127)
        assert sum(t.net_minor for t in txns) == 0
        assert all(t.customer_id for t in txns if t.category == "charge")
    refunds = [t for po in payouts for t in reads.payout_transactions(po.id)
               if t.category == "refund"]
    assert len(refunds) == 1 and refunds[0].invoice_id is not None
    assert reads.calls["balance_transactions.list"] == 8


def test_failures_are_closebots_errors(emulator: StripeEmulator) -> None:
    with pytest.raises(PermanentError, match="Stripe rejected the request"):
        list(StripeCash(api_key=emulator.api_key, api_base=emulator.url).payout_transactions(
            "po_doesnotexist"))
    with pytest.raises(CredentialsRefused):
        list(StripeCash(api_key="sk_test_wrong", api_base=emulator.url).payouts())
