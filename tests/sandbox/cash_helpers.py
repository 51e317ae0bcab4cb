"""Shared pieces of the Stripe emulator's cash tests: the emulator, a client, charges, triggers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from sandbox.stripe import StripeEmulator
from tests.sandbox.test_stripe_emulator import client

__all__ = ["client", "emu"]  # the client fixture binds to the `emu` of the module using it

START = 1_767_225_600  # 2026-01-01T00:00:00Z, a Thursday
HOUR, DAY = 3_600, 86_400


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    # one hour past midnight, so no charge becomes available exactly at a payout sweep
    with StripeEmulator(start_time=START + HOUR) as emulator:
        yield emulator
        assert not emulator.failures, emulator.failures[0]


def charge(client: stripe.StripeClient, amount: int, card: str = "pm_card_visa") -> Any:
    """A confirmed card payment; returns its charge with the balance transaction expanded."""
    pi = client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": card, "confirm": True})
    return client.v1.charges.retrieve(pi.latest_charge,
                                      params={"expand": ["balance_transaction"]})


def trigger(emu: StripeEmulator, path: str, **data: str) -> dict[str, Any]:
    """A sandbox-only trigger (`/sandbox/…`), authenticated with the secret key."""
    resp = httpx.post(f"{emu.url}{path}", data=data,
                      headers={"Authorization": f"Bearer {emu.api_key}"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def balance(client: stripe.StripeClient) -> tuple[int, int]:
    """(available, pending) in USD."""
    bal = client.v1.balance.retrieve()
    return bal.available[0].amount, bal.pending[0].amount


def event_types(client: stripe.StripeClient, prefix: str) -> list[str]:
    """Event types starting with `prefix`, oldest first."""
    rows = [e.type for e in client.v1.events.list(params={"limit": 100}).auto_paging_iter()]
    return [t for t in reversed(rows) if t.startswith(prefix)]
