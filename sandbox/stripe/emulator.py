"""`StripeEmulator`: the served app, its clock, and what happens as the clock moves.

`advance()` walks the clock from one scheduled moment to the next rather than jumping, so every
object made on the way carries the time it would have had on Stripe: renewals at each period end,
draft invoices finalized (and charged) an hour after creation, retries of failed charges,
`invoice.overdue` at the due date, subscriptions ending at `cancel_at`, incomplete subscriptions
expiring after 23 h, balance transactions becoming available, the daily payout sweep and
payout arrivals, ACH debits settling, refunds waiting for funds, webhook retries falling due.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from typing import Any

from stripe._api_version import _ApiVersion
from werkzeug.wrappers import Request, Response

from sandbox.lifecycle import Startable
from sandbox.server import ServedApp
from sandbox.stripe import billing, invoices, payouts
from sandbox.stripe.app import StripeApp
from sandbox.stripe.cash_routes import clock_tasks, listen
from sandbox.stripe.clock import DAY, HOUR, Clock
from sandbox.stripe.events import Events
from sandbox.stripe.state import State

Task = tuple[int, Callable[[], None]]
_LIVE = ("active", "past_due", "unpaid", "trialing")


def _due(st: State, events: Events) -> list[Task]:
    """Everything scheduled on the clock, as (when, action)."""
    tasks: list[Task] = []
    for sub in st.all("subscription"):
        if sub["status"] in _LIVE:
            if sub["cancel_at"] is not None and sub["cancel_at"] <= billing.current_period_end(
                    sub):
                at = sub["cancel_at"]
                tasks.append((at, lambda s=sub, a=at: billing.end(
                    st, s, at=a, reason="cancellation_requested")))
            else:
                tasks.append((billing.current_period_end(sub), lambda s=sub: billing.renew(st, s)))
        elif sub["status"] == "incomplete":
            tasks.append((sub["created"] + 23 * HOUR,
                          lambda s=sub: billing.expire_incomplete(st, s)))
    for inv in st.all("invoice"):
        if inv["status"] == "draft" and inv["automatically_finalizes_at"]:
            tasks.append((inv["automatically_finalizes_at"],
                          lambda i=inv: billing.auto_finalize(st, i)))
        elif inv["status"] == "open":
            if inv["collection_method"] == "charge_automatically" and inv[
                    "next_payment_attempt"] and inv["attempted"]:
                tasks.append((inv["next_payment_attempt"], lambda i=inv: invoices.attempt_payment(
                    st, i, automatic=True)))
            if inv["due_date"] and not st.private(inv["id"]).get("overdue_sent"):
                tasks.append((inv["due_date"] + 1, lambda i=inv: invoices.overdue(st, i)))
    tasks += clock_tasks(st)
    retry = events.next_retry_at()
    if retry is not None:
        tasks.append((retry, events.release_due))
    return tasks


class StripeEmulator(Startable):
    """A local Stripe API for stripe-python, served over plain HTTP on 127.0.0.1."""

    def __init__(self, *, api_key: str = "sk_test_closebot", start_time: int | None = None,
                 port: int = 0, payout_schedule: str = "daily") -> None:
        self.api_key = api_key
        self.state = State(clock=Clock(start_time), api_version=_ApiVersion.CURRENT)
        self.events = Events(self.state)
        listen(self.state)
        payouts.set_interval(self.state, payout_schedule)
        self.app = StripeApp(self.state, api_key)
        self._server = ServedApp(self._serve, port=port)
        self._running = False
        self._payout_schedule = payout_schedule
        # Connect accounts the platform acts for with the `Stripe-Account` header, each its own
        # customers, invoices, balance, payouts and events, under the platform's key.
        self.connected: dict[str, StripeEmulator] = {}

    def add_connected_account(self, account_id: str) -> StripeEmulator:
        """A connected account (`acct_…`) on the same clock from now; its object space."""
        with self.state.lock:
            if account_id not in self.connected:
                self.connected[account_id] = StripeEmulator(
                    api_key=self.api_key, start_time=self.now,
                    payout_schedule=self._payout_schedule)
            return self.connected[account_id]

    def account(self, account_id: str | None) -> StripeEmulator:
        """The platform (None) or one of its connected accounts, to read objects from."""
        return self if account_id is None else self.connected[account_id]

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def now(self) -> int:
        return self.state.now

    @property
    def calls(self) -> dict[str, int]:
        with self.app._calls_lock:
            return dict(self.app.calls)

    def reset_calls(self) -> None:
        with self.app._calls_lock:
            self.app.calls.clear()

    def start(self) -> StripeEmulator:
        self._server.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._server.stop()
            self._running = False
        self.events.close()
        for account in self.connected.values():
            account.stop()

    def advance(self, *, seconds: int = 0, days: int = 0) -> None:
        if seconds < 0 or days < 0:
            raise ValueError("the emulator clock only moves forward")
        st = self.state
        with st.lock:
            target = st.now + seconds + days * DAY
            for _ in range(100_000):
                tasks = [t for t in _due(st, self.events) if t[0] <= target]
                if not tasks:
                    break
                # one action at a time: each may change what else is due
                when, action = min(tasks, key=lambda t: t[0])
                st.clock.set(max(when, st.now))
                action()
            st.clock.set(target)
            self.events.release_due()
        self.app.idempotency.prune(st.now)
        for account in list(self.connected.values()):
            account.advance(seconds=max(0, target - account.now))

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The Stripe API, plus `/sandbox/clock` (emulator only, outside `/v1/`): Stripe's own
        test clocks (`POST /v1/test_helpers/test_clocks/{id}/advance`) each move the objects
        attached to one clock, but this emulator has one clock for everything, so it is moved
        here, with the same `frozen_time` (Unix seconds, later than now) Stripe's advance takes."""
        if environ.get("PATH_INFO", "") != "/sandbox/clock":
            on_behalf = environ.get("HTTP_STRIPE_ACCOUNT")
            if on_behalf:
                return self._connected(on_behalf, environ, start_response)
            return self.app(environ, start_response)
        return self._clock(Request(environ))(environ, start_response)

    def _connected(self, account_id: str, environ: dict[str, Any],
                   start_response: Any) -> Iterable[bytes]:
        """A request made for a connected account: answered from that account's objects, or
        refused as Stripe refuses an account the key can't reach."""
        account = self.connected.get(account_id)
        if account is not None:
            return account.app(environ, start_response)
        body = {"error": {
            "code": "account_invalid", "type": "invalid_request_error",
            "message": f"The provided key does not have access to account '{account_id[:40]}' "
                       "(or that account does not exist). Application access may have been "
                       "revoked."}}
        return Response(json.dumps(body), status=403,
                        content_type="application/json")(environ, start_response)

    def _clock(self, request: Request) -> Response:
        def answer(status: int, body: dict[str, Any]) -> Response:
            return Response(json.dumps(body), status=status, content_type="application/json")

        if request.path != "/sandbox/clock":
            return answer(404, {"error": {"message": f"No such sandbox path: {request.path}"}})
        if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
            return answer(401, {"error": {"message": "Invalid API Key provided"}})
        if request.method == "POST":
            frozen = request.form.get("frozen_time", "")
            if not frozen.isdigit() or int(frozen) <= self.now:
                return answer(400, {"error": {
                    "message": "frozen_time must be a Unix time after the clock's current time",
                    "param": "frozen_time"}})
            self.advance(seconds=int(frozen) - self.now)
        return answer(200, {"object": "sandbox.clock", "frozen_time": self.now})

    def add_restricted_key(self, key: str, permissions: dict[str, str]) -> None:
        """Accept `key` with only these permissions: resource (`customer`, `credit_note`, …)
        → `read` or `write`; see `sandbox/stripe/account.py`."""
        self.app.restricted.add(key, permissions)

    def add_webhook_endpoint(self, url: str, events: list[str] | None = None) -> str:
        with self.state.lock:
            return self.events.add_endpoint(url, events or ["*"])["secret"]

    def objects(self, kind: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(self.state.all(kind))

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Webhook delivery attempts, oldest first (event, endpoint, attempt, status, error)."""
        with self.state.lock:
            return copy.deepcopy(self.events.log)

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until queued webhook deliveries have been attempted; False on timeout."""
        return self.events.flush(timeout)

    @property
    def failures(self) -> list[str]:
        """Tracebacks of requests that ended in a 500 (an emulator bug, not a Stripe error)."""
        return list(self.app.failures)
