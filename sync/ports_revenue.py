"""What a surface (Slack) asks of the books about point-in-time obligations: which of a deal's
obligations wait for their delivery or were delivered and not recognized yet, and marking or
undoing a delivery. The embedded ledger keeps the schedules and implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


class DeliveryRefused(ValueError):
    """A delivery a person asked for that can't be recorded; the message says why."""


@dataclass(frozen=True)
class Delivered:
    product: str
    on: date | None  # None: awaiting delivery again
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Deliverable:
    """A point-in-time obligation of a deal's current contract version, not recognized yet."""

    product: str
    delivered_on: date | None  # None: awaiting its delivery
    amount_minor: int
    currency: str


class Deliveries(Protocol):
    def deliverables(self, opportunity_id: str) -> list[Deliverable]: ...

    def mark_delivered(self, *, opportunity_id: str, product: str, on: date | None, by: str,
                       today: date, allowed: frozenset[str] = frozenset()) -> Delivered: ...
