"""What a surface (Slack) asks of the books about point-in-time obligations: which of a deal's
obligations wait for their delivery or were delivered and not recognized yet, and marking or
undoing a delivery. The embedded ledger keeps the schedules and implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from sync.model import Contract


class DeliveryRefused(ValueError):
    """A delivery a person asked for that can't be recorded; the message says why."""


@dataclass(frozen=True)
class Delivered:
    """A point-in-time obligation not recognized yet: delivered `on`, or (None) awaiting it."""

    product: str
    on: date | None
    amount_minor: int
    currency: str
    milestone: str | None = None  # "milestone 2 of 3" for a milestone obligation

    @property
    def label(self) -> str:
        """The obligation as people read it: its product, and which milestone."""
        return f"{self.product}, {self.milestone}" if self.milestone else self.product


class Deliveries(Protocol):
    def deliverables(self, opportunity_id: str) -> list[Delivered]: ...

    def mark_delivered(self, *, opportunity_id: str, product: str, on: date | None, by: str,
                       today: date, allowed: frozenset[str] = frozenset()) -> Delivered: ...


@runtime_checkable
class CrmDeliveries(Protocol):
    """An ERP whose schedules closebot keeps takes the delivery days the CRM gives (Delivered
    On): each point-in-time obligation not recognized yet moves to its day. Replayed, it moves
    nothing. Raises DeliveryRefused for a day it can't take (a closed period)."""

    def deliver_from_crm(self, contract: Contract, *, today: date) -> int: ...
