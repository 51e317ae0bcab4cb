"""`python -m sandbox.stripe [--port N] [--api-key KEY] [--payout-schedule daily|manual]`: serve
the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from sandbox.stripe.emulator import StripeEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.stripe", description=__doc__)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_closebot")
    parser.add_argument("--payout-schedule", choices=("daily", "manual"), default="daily")
    args = parser.parse_args(argv)
    emu = StripeEmulator(api_key=args.api_key, port=args.port,
                         payout_schedule=args.payout_schedule).start()
    print(f"Stripe emulator on {emu.url}  (api key {emu.api_key})", flush=True)
    print(f'stripe.StripeClient("{emu.api_key}", base_addresses={{"api": "{emu.url}"}})',
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
