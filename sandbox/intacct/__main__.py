"""`python -m sandbox.intacct [--port N]`: serve a company until Ctrl-C."""

from __future__ import annotations

import argparse

from sandbox.intacct.emulator import IntacctEmulator
from sandbox.lifecycle import serve_until_interrupted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.intacct", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks one)")
    parser.add_argument("--concurrency-limit", type=int, default=5,
                        help="requests in flight at once (0 = unlimited)")
    args = parser.parse_args(argv)
    with IntacctEmulator(port=args.port, concurrency_limit=args.concurrency_limit) as emu:
        for name, value in emu.env().items():
            print(f"{name}={value}", flush=True)
        serve_until_interrupted()


if __name__ == "__main__":
    main()
