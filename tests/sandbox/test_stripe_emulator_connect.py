"""Connect in the Stripe emulator: the `Stripe-Account` header reaches a connected account's own
objects under the platform's key; an account the platform can't reach is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from sandbox.stripe import StripeEmulator
from sandbox.stripe.clock import DAY

START = 1_767_225_600  # 2026-01-01T00:00:00Z
UK = "acct_1AcmeLtdUK00001"


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator(start_time=START) as emulator:
        emulator.add_connected_account(UK)
        yield emulator
        assert not emulator.failures, emulator.failures[0]


def test_each_account_has_its_own_objects_and_idempotency(emu: StripeEmulator) -> None:
    client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
    made = client.v1.customers.create(params={"name": "Hooli UK"},
                                   options={"stripe_account": UK, "idempotency_key": "k1"})
    # The same idempotency key on the platform is another account's key: a new customer.
    platform = client.v1.customers.create(params={"name": "Initrode"},
                                       options={"idempotency_key": "k1"})
    assert made.id != platform.id
    assert [c["name"] for c in emu.account(UK).objects("customer")] == ["Hooli UK"]
    assert [c["name"] for c in emu.objects("customer")] == ["Initrode"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(made.id)  # not on the platform
    assert client.v1.customers.retrieve(made.id, options={"stripe_account": UK}).name == "Hooli UK"


def test_an_account_the_platform_cannot_reach_is_refused(emu: StripeEmulator) -> None:
    client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
    with pytest.raises(stripe.PermissionError, match="does not have access to account"):
        client.v1.customers.list(options={"stripe_account": "acct_1Unknown000000001"})


def test_the_clock_moves_every_account(emu: StripeEmulator) -> None:
    emu.advance(days=3)
    assert emu.account(UK).now == emu.now == START + 3 * DAY
