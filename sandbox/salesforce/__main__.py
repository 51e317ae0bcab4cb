"""`python -m sandbox.salesforce [--port N]`: serve an empty org until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from sandbox.salesforce.emulator import SalesforceEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.salesforce", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks one)")
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--api-version", default="59.0")
    args = parser.parse_args(argv)
    emulator = SalesforceEmulator(
        port=args.port, page_size=args.page_size, api_version=args.api_version
    )
    with emulator:
        print(f"Salesforce emulator at {emulator.url}", flush=True)
        print(f"  token:     {emulator.token}")
        print(f"  version:   {emulator.api_version}")
        print(f"  CA bundle: {emulator.ca_bundle}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
