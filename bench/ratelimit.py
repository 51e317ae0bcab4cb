"""Rate-limit benchmark: `python -m bench.ratelimit --rate 25 --seconds 4 --threads 4 [--json]`.

Several threads hammer the Stripe emulator through `StripeBilling` with one token bucket, as
the worker's connectors do. Reports achieved throughput against the configured rate and how
many 429s came back; closebot should run at ≥ 90% of the rate with no 429 storm.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

from sandbox.stripe import StripeEmulator
from sync.connectors.ratelimit import TokenBucket
from sync.connectors.stripe_billing import StripeBilling
from sync.errors import TransientError


def run(rate: float, seconds: float, threads: int) -> dict[str, Any]:
    with StripeEmulator() as emulator:
        bucket = TokenBucket(rate)
        billing = StripeBilling(api_key=emulator.api_key, api_base=emulator.url,
                                before_call=bucket)
        billing.events(created_gte=None)  # warm the connection pool outside the measurement
        bucket = TokenBucket(rate, burst=1)  # start empty-ish: measure the sustained rate
        billing._before_call = bucket
        stop_at = time.monotonic() + seconds
        counts = {"ok": 0, "429": 0}
        lock = threading.Lock()

        def hammer() -> None:
            while time.monotonic() < stop_at:
                try:
                    billing.events(created_gte=None)
                    outcome = "ok"
                except TransientError:
                    outcome = "429"
                with lock:
                    counts[outcome] += 1

        started = time.monotonic()
        workers = [threading.Thread(target=hammer) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
    achieved = counts["ok"] / elapsed
    return {"rate": rate, "threads": threads, "seconds": round(elapsed, 2),
            "calls": counts["ok"], "throughput_per_s": round(achieved, 2),
            "ratio": round(achieved / rate, 3), "http_429": counts["429"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.rate, args.seconds, args.threads)
    print(json.dumps(result) if args.json else "\n".join(f"{k:<18}{v}" for k, v in
                                                         result.items()))


if __name__ == "__main__":
    main()
