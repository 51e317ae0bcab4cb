"""The emulator's data: objects by kind, creation order, private bookkeeping, the current request.

One re-entrant lock guards everything; every API request and every clock step holds it, which is
what makes concurrent requests safe (Stripe itself serialises writes per object).
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.stripe.clock import Clock
from sandbox.stripe.wire import no_such

LABELS = {
    "payout": "payout", "dispute": "dispute",
    "customer": "customer", "product": "product", "price": "price",
    "subscription": "subscription", "subscription_item": "subscription item",
    "invoice": "invoice", "invoiceitem": "invoiceitem", "payment_intent": "payment_intent",
    "charge": "charge", "balance_transaction": "balance transaction", "refund": "refund",
    "credit_note": "credit note", "customer_balance_transaction": "customer balance transaction",
    "event": "event", "webhook_endpoint": "webhook endpoint", "payment_method": "PaymentMethod",
    "invoice_payment": "invoice payment", "tax_rate": "tax rate",
}


@dataclass
class RequestContext:
    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass
class State:
    clock: Clock
    api_version: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    internal: dict[str, dict[str, Any]] = field(default_factory=dict)
    request: threading.local = field(default_factory=threading.local)
    # set by the events module; called as emit(type, object, previous_attributes)
    emitter: Callable[[str, dict[str, Any], dict[str, Any] | None], None] | None = None
    webhooks: Any = None  # the events.Events instance, for webhook endpoint creation
    # what else happens in the emulator when an event is emitted: type → [fn(state, object)]
    listeners: dict[str, list[Callable[[State, dict[str, Any]], None]]] = field(
        default_factory=dict)
    _order: dict[str, int] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=itertools.count)

    @property
    def now(self) -> int:
        return self.clock.now

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects.setdefault(obj["object"], {})[obj["id"]] = obj
        self._order[obj["id"]] = next(self._counter)
        return obj

    def get(self, kind: str, obj_id: Any, *, param: str = "id") -> dict[str, Any]:
        found = self.objects.get(kind, {}).get(obj_id) if isinstance(obj_id, str) else None
        if found is None:
            raise no_such(LABELS.get(kind, kind), str(obj_id), param)
        return found

    def find(self, kind: str, obj_id: str | None) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(obj_id) if obj_id else None

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Newest first, as Stripe lists: by `created`, ties broken by creation order."""
        return self.newest_first(self.objects.get(kind, {}).values())

    def newest_first(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda o: (o.get("created", 0), self._order.get(o["id"], 0)),
                      reverse=True)

    def remove(self, kind: str, obj_id: str) -> None:
        self.objects.get(kind, {}).pop(obj_id, None)

    def private(self, obj_id: str) -> dict[str, Any]:
        return self.internal.setdefault(obj_id, {})

    def context(self) -> RequestContext:
        ctx = getattr(self.request, "ctx", None)
        return ctx if ctx is not None else RequestContext()

    def emit(self, event_type: str, obj: dict[str, Any],
             previous: dict[str, Any] | None = None) -> None:
        if self.emitter is not None:
            self.emitter(event_type, copy.deepcopy(obj), previous)
        for listener in self.listeners.get(event_type, ()):
            listener(self, obj)


def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`previous_attributes` for `*.updated` events: old values of top-level fields that moved."""
    return {k: before.get(k) for k in after if before.get(k) != after.get(k)}
