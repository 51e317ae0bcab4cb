"""What listeners reach through Bolt's `context`: the services and their dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.ids import Command, command_names
from sync.engine.runtime import Runtime
from sync.ops.surface import Deps
from sync.ports_bank import Payouts
from sync.ports_revenue import Deliveries, PeriodCloses


@dataclass
class Surface:
    deps: Deps
    rt: Runtime | None = None
    names: dict[Command, str] = field(default_factory=command_names)
    timezone: str = "UTC"
    flush: Callable[[], Any] = lambda: None  # send queued Slack messages now (best effort)
    after_retry: Callable[[], Any] = lambda: None  # run the engine and the alert sweep
    payouts: Payouts | None = None  # Stripe's payouts, for `/payout`; None without Stripe
    deliveries: Deliveries | None = None  # "Mark delivered": the ledger or revenue subledger
    delivery_markers: frozenset[str] = frozenset()  # DELIVERY_MARKERS: Slack IDs or emails
    closes: PeriodCloses | None = None  # the month-end close card; None: no ERP configured

    def __deepcopy__(self, memo: dict[int, Any]) -> Surface:
        return self  # shared by every request; Bolt deep-copies contexts for lazy listeners

    def today(self) -> date:
        return self.deps.now().date()


def surface(context: Any) -> Surface:
    return context["surface"]
