"""A local emulator of the modern Stripe API, for stripe-python 16 and the tests that use it.

    with StripeEmulator() as emu:
        client = stripe.StripeClient(emu.api_key, base_addresses={"api": emu.url})
"""

from sandbox.stripe.emulator import StripeEmulator

__all__ = ["StripeEmulator", "main"]


def main(argv: list[str] | None = None) -> None:
    from sandbox.stripe.__main__ import main as run

    run(argv)
