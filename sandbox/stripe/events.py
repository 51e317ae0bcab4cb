"""Events for every state change, and signed webhook delivery from a background thread.

As with Stripe: `data.object` is the object as it was when the event happened (later changes do
not rewrite it), `*.updated` events carry `data.previous_attributes`, and each delivery is signed
`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the whsec_ secret>`.
The signature timestamp is wall-clock time, not the emulator clock, because receivers check it
against their own clock (`stripe.Webhook.construct_event` allows 300 s). A failed delivery (non-2xx
or connection error) is retried when the emulator clock passes the next retry time, up to the
test-mode limit of three retries, then marked failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from typing import Any

import httpx

from sandbox.stripe.objects import build, new_id, random_token
from sandbox.stripe.state import State

RETRY_DELAYS = (3_600, 6 * 3_600, 24 * 3_600)


def sign(payload: str, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def matches(enabled: list[str], event_type: str) -> bool:
    return any(
        pattern == "*" or pattern == event_type
        or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
        for pattern in enabled
    )


class Events:
    """Records events into the state and delivers them to the enabled webhook endpoints."""

    def __init__(self, st: State) -> None:
        self.st = st
        self.secrets: dict[str, str] = {}
        self.log: list[dict[str, Any]] = []
        self._retries: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._client = httpx.Client(timeout=5.0)
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        self._thread.start()
        st.emitter = self.record
        st.webhooks = self

    def record(self, event_type: str, obj: dict[str, Any],
               previous: dict[str, Any] | None) -> dict[str, Any]:
        st = self.st
        ctx = st.context()
        data: dict[str, Any] = {"object": obj}
        if previous:
            data["previous_attributes"] = previous
        endpoints = [
            we for we in st.all("webhook_endpoint")
            if we["status"] == "enabled" and matches(we["enabled_events"], event_type)
        ]
        event = st.add(build(
            "event", id=new_id("event"), api_version=st.api_version, created=st.now, data=data,
            pending_webhooks=len(endpoints), type=event_type,
            request={"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
        ))
        for we in reversed(endpoints):
            self._queue.put({"event": event["id"], "endpoint": we["id"], "attempt": 1})
        return event

    def add_endpoint(self, url: str, enabled_events: list[str], **extra: Any) -> dict[str, Any]:
        st = self.st
        secret = f"whsec_{random_token(32)}"
        we = st.add(build("webhook_endpoint", id=new_id("webhook_endpoint"), created=st.now,
                          url=url, enabled_events=enabled_events, status="enabled",
                          api_version=extra.pop("api_version", None), **extra))
        self.secrets[we["id"]] = secret
        return {**we, "secret": secret}

    def release_due(self) -> None:
        """Queue the retries whose time has come on the emulator clock (called from `advance`)."""
        now = self.st.now
        due = [r for r in self._retries if r["next_at"] <= now]
        self._retries = [r for r in self._retries if r["next_at"] > now]
        for task in due:
            self._queue.put(task)

    def flush(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._queue.unfinished_tasks == 0

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._client.close()

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            try:
                if task is None:
                    return
                self._deliver(task)
            finally:
                self._queue.task_done()

    def _deliver(self, task: dict[str, Any]) -> None:
        st = self.st
        with st.lock:
            event = st.find("event", task["event"])
            endpoint = st.find("webhook_endpoint", task["endpoint"])
            if event is None or endpoint is None:
                return
            payload = json.dumps(event, indent=2)
            secret, url = self.secrets[endpoint["id"]], endpoint["url"]
        status, error = None, None
        try:
            resp = self._client.post(url, content=payload, headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(payload, secret, int(time.time())),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            })
            status = resp.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        with st.lock:
            self.log.append({
                "event": event["id"], "type": event["type"], "endpoint": endpoint["id"],
                "url": url, "attempt": task["attempt"], "status": status, "error": error,
                "delivered": ok, "at": st.now,
            })
            if ok or task["attempt"] > len(RETRY_DELAYS):
                event["pending_webhooks"] = max(event["pending_webhooks"] - 1, 0)
            if not ok and task["attempt"] <= len(RETRY_DELAYS):
                self._retries.append({**task, "attempt": task["attempt"] + 1,
                                      "next_at": st.now + RETRY_DELAYS[task["attempt"] - 1]})

    def next_retry_at(self) -> int | None:
        return min((r["next_at"] for r in self._retries), default=None)
