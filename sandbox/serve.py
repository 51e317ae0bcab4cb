"""Run the sandbox stack in its own process: `python -m sandbox.serve --deals N`.

Prints one JSON line (the environment that points closebot at it), then serves until its
standard input closes or it gets SIGTERM; with an ERP emulator, a last JSON line says what that
ERP served. Benchmarks and crash tests use it so that the
emulators' CPU time and lifetime are separate from the worker being measured or killed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading

from sandbox.book import BookSeeder, generated_deals
from sandbox.stack import SandboxStack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--erp", choices=("ledger", "netsuite", "intacct"), default="ledger")
    parser.add_argument("--erp-latency-ms", type=float, default=0.0,
                        help="how long the ERP emulator holds each request")
    parser.add_argument("--erp-concurrency-limit", type=int, default=5,
                        help="requests the ERP emulator takes at once before answering 429")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SandboxStack(page_size=args.page_size, erp=args.erp,
                      erp_latency_s=args.erp_latency_ms / 1000,
                      erp_concurrency_limit=args.erp_concurrency_limit) as stack:
        seeder = BookSeeder(stack.salesforce)
        ids = [seeder.seed(deal) for deal in generated_deals(args.deals, seed=args.seed)]
        print(json.dumps({"env": stack.env(), "opportunities": len(ids)}), flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
        erp = stack.netsuite or stack.intacct
        if erp is not None:
            # What the ERP saw, for benchmarks: requests by kind (refusals included) and the
            # most ever in flight at once.
            with contextlib.suppress(OSError):  # nobody is reading any more
                print(json.dumps({"erp_calls": erp.calls, "erp_peak_in_flight": erp.gate.peak}),
                      flush=True)


if __name__ == "__main__":
    main()
