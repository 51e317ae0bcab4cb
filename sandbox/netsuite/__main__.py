"""`python -m sandbox.netsuite [--port N]`: serve an account until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from sandbox.netsuite.emulator import NetSuiteEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.netsuite", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks one)")
    parser.add_argument("--account-id", default="1234567_SB1")
    parser.add_argument("--concurrency-limit", type=int, default=5,
                        help="requests in flight at once (0 = unlimited)")
    args = parser.parse_args(argv)
    emulator = NetSuiteEmulator(
        port=args.port, account_id=args.account_id, concurrency_limit=args.concurrency_limit
    )
    with emulator:
        print(f"NetSuite emulator at {emulator.url}", flush=True)
        print(f"  account:         {emulator.account_id}")
        print(f"  consumer key:    {emulator.consumer_key}")
        print(f"  consumer secret: {emulator.consumer_secret}")
        print(f"  token id:        {emulator.token_id}")
        print(f"  token secret:    {emulator.token_secret}")
        print(f"  CA bundle:       {emulator.ca_bundle}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
