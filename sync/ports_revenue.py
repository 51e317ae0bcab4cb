"""What a surface (Slack) asks of the books about point-in-time obligations: which of a deal's
obligations wait for their delivery or were delivered and not recognized yet, and marking or
undoing a delivery. The embedded ledger keeps the schedules and implements it. And the month's
revenue as an ERP other than the ledger receives it at close (`RevenueJournal`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class RevenueDue:
    """Revenue a close would post: the schedule rows due by its last day, not recognized yet."""

    currency: str
    amount_minor: int
    entries: int


class RollForwardLine(Protocol):
    """One currency's deferred-revenue roll-forward, as a close reports it."""

    @property
    def currency(self) -> str: ...
    @property
    def opening(self) -> int: ...
    @property
    def billings(self) -> int: ...
    @property
    def credits(self) -> int: ...
    @property
    def recognized(self) -> int: ...
    @property
    def closing(self) -> int: ...
    @property
    def ledger_balance(self) -> int: ...
    @property
    def ties(self) -> bool: ...


@dataclass(frozen=True)
class ErpPosting:
    """One revenue journal entry a close posted to an ERP other than the ledger."""

    currency: str
    external_id: str
    erp_id: str
    amount_minor: int
    posted_on: date
    lines: int  # obligation lines credited (the Deferred Revenue debit not counted)
    note: str  # why it is dated after the period, if it is


class ClosedPeriod(Protocol):
    @property
    def erp(self) -> str: ...  # "ledger", or the ERP the revenue entries went to
    @property
    def postings(self) -> tuple[ErpPosting, ...]: ...  # empty on the ledger
    @property
    def period(self) -> str: ...
    @property
    def posted(self) -> int: ...
    @property
    def already_closed(self) -> bool: ...
    @property
    def closed_by(self) -> str: ...
    @property
    def roll_forward(self) -> tuple[RollForwardLine, ...]: ...


class PeriodCloses(Protocol):
    """Month-end close as the Slack close card asks for it: the embedded ledger implements it,
    and on NetSuite or Sage Intacct the revenue subledger posting its journal entries there."""

    def is_closed(self, period: str) -> bool: ...

    def revenue_due(self, *, through: date) -> list[RevenueDue]: ...

    def close_period(self, *, period: str, by: str, today: date) -> ClosedPeriod: ...


@runtime_checkable
class CrmDeliveries(Protocol):
    """An ERP whose schedules closebot keeps takes the delivery days the CRM gives (Delivered
    On): each point-in-time obligation not recognized yet moves to its day. Replayed, it moves
    nothing. Raises DeliveryRefused for a day it can't take (a closed period)."""

    def deliver_from_crm(self, contract: Contract, *, today: date) -> int: ...


@runtime_checkable
class ReplannedSchedules(Protocol):
    """An ERP whose schedules closebot keeps re-plans them to a contract modification's
    classification (`sync.revenue.modifications`): per obligation (line id), what it has left
    to recognize from `effective` and any catch-up recognized that day. Replayed, it moves
    nothing; returns how many obligations moved."""

    def replan(self, *, opportunity_id: str, effective: date, remaining: Mapping[str, int],
               catch_up: Mapping[str, int]) -> int: ...


REVENUE_ENTRY = "closebot-rev-"  # external IDs of month-end revenue entries: + "2026-11-USD"
# A month's entry in one currency split in parts: the first keeps the plain ID, the next are
# "closebot-rev-2026-11-USD-part-2" and on.
PART = "-part-"
# Lines per ERP journal entry, the Deferred Revenue debit included: NetSuite documents 200 lines
# as the limit for creating a journal entry (Help: "Limitations for Creating Transactions").
MAX_JOURNAL_LINES = 200


@dataclass(frozen=True)
class RevenueLine:
    """Revenue a period released for one obligation: Dr Deferred Revenue / Cr `account` (the
    revenue account's number, as the charts of the ledger, NetSuite and Sage Intacct share it).
    A negative amount is the other way round, revenue reversed: a void after a close, or a
    catch-up that lowers revenue. A void after a write-off also credits Bad Debt Expense (the
    ledger's 6200, the ERP's bad-debt account), its lines summing to zero: Deferred Revenue
    takes no line."""

    account: str
    amount_minor: int
    memo: str


@dataclass(frozen=True)
class DeferredMoves:
    """Deferred Revenue in the ERP over a period, credits positive, minor units: `released` is
    what closebot's revenue entries took out of it, `credits` every other debit to it."""

    opening: int
    billings: int
    credits: int
    released: int
    closing: int


class PeriodClosedInErp(ValueError):
    """The ERP refused a posting dated in an accounting period it has closed."""


class RevenueJournal(Protocol):
    """A month's revenue as one journal entry per currency in an ERP that is not the ledger."""

    name: str

    def post_revenue(self, *, external_id: str, currency: str, posted_on: date, memo: str,
                     lines: Sequence[RevenueLine]) -> str:
        """Post once by `external_id` (a re-run finds it); its id. `PeriodClosedInErp` when the
        ERP's period holding `posted_on` is closed."""
        ...

    def deferred_moves(self, currency: str, start: date, end: date) -> DeferredMoves | None:
        """Deferred Revenue as the ERP's general ledger holds it (None: not read from it)."""
        ...
