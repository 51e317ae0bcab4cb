"""Client-side rate limiting: one token bucket per external system.

closebot should stay under a vendor's limit rather than bounce off it: a 429 costs a round trip
and a backoff, and a burst of them (a "429 storm") stalls every replica. Each connector calls the
bucket before every request (`before_call=`); the caller sleeps until a token is free.

Defaults follow the vendors' documents: Stripe allows 100 requests/s in live mode and 25/s in
test mode; Salesforce has no per-second limit but a daily allowance, so 25/s is a polite ceiling.
The limit is per process; with N replicas configure rate / N.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

STRIPE_LIVE_RATE = 100.0
STRIPE_TEST_RATE = 25.0
SALESFORCE_RATE = 25.0


def stripe_default_rate(api_key: str | None) -> float:
    return STRIPE_LIVE_RATE if (api_key or "").startswith(("sk_live_", "rk_live_")) else (
        STRIPE_TEST_RATE
    )


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `acquire()` blocks until one is free."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # A burst of one second's worth by default: short bursts are fine, sustained ones are not.
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock, self._sleep = clock, sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0
        self.acquired = 0

    def _reserve(self) -> float:
        """Take a token now (possibly going negative) and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            self.acquired += 1
            # Reserving ahead keeps callers in arrival order without a queue of their own.
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        wait = self._reserve()
        if wait > 0:
            self.waited_s += wait
            self._sleep(wait)
        return wait

    __call__ = acquire


def maybe_bucket(rate: float | None) -> TokenBucket | None:
    """A bucket for a configured rate; 0 or None turns limiting off (e.g. in a local sandbox)."""
    return TokenBucket(rate) if rate and rate > 0 else None
