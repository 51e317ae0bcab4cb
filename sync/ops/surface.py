"""What the Slack-facing services share: their dependencies, typed user errors, record links.

Services stay free of Slack libraries: people are looked up through a `Directory`, messages are
rendered by a `Renderer` (the Block Kit builders, injected by the composition root) and sent
through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from storage.timeutil import utcnow

Message = tuple[str, list[dict[str, Any]]]


class UserError(Exception):
    """A problem the person in Slack can fix or should know about; shown as-is, never logged
    as a crash. `field` names the modal input it belongs to, when there is one; `people` and
    `groups` (Slack user and user-group IDs) are whom to ask, which the surface names."""

    def __init__(self, message: str, *, field: str | None = None,
                 people: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.people, self.groups = people, groups


class NotAllowed(UserError):
    """The clicker may not take this decision."""


class Stale(UserError):
    """The card or request was already decided or changed since it was shown."""


class BadInput(UserError):
    """The command text or form could not be understood."""


class Directory(Protocol):
    def user_for_email(self, email: str) -> str | None: ...

    def group_members(self, group_id: str) -> frozenset[str]: ...

    def name_for(self, user_id: str) -> str | None:
        """The person's name, for text read outside Slack, where a mention shows nothing."""
        ...


class Renderer(Protocol):
    def approval_card(self, card: Any) -> Message: ...

    def reminder(self, card: Any) -> Message: ...

    def alert(self, alert: Any) -> Message: ...

    def group_alert(self, group: Any) -> Message: ...

    def owner_dm(self, alert: Any) -> Message: ...

    def digest(self, digest: Any) -> Message: ...


@dataclass(frozen=True)
class Links:
    """Deep links into each system's UI; empty when the system has no web UI configured."""

    salesforce: str | None = None
    stripe: str = "https://dashboard.stripe.com"
    stripe_test: bool = True
    erp: str | None = None  # a template with `{id}`

    def opportunity(self, opportunity_id: str | None) -> str | None:
        if not self.salesforce or not opportunity_id:
            return None
        return f"{self.salesforce.rstrip('/')}/lightning/r/Opportunity/{opportunity_id}/view"

    def stripe_invoice(self, invoice_id: str) -> str:
        mode = "/test" if self.stripe_test else ""
        return f"{self.stripe.rstrip('/')}{mode}/invoices/{invoice_id}"

    def erp_invoice(self, erp_id: str | None) -> str | None:
        return self.erp.format(id=erp_id) if self.erp and erp_id else None


@dataclass(frozen=True)
class ApproverPolicy:
    users: frozenset[str] = frozenset()
    group: str | None = None
    credit_users: frozenset[str] = frozenset()
    credit_group: str | None = None
    two_approvers_minor: int = 500_000
    close_users: frozenset[str] = frozenset()  # a month-end close; empty → the approvers
    operators: frozenset[str] = frozenset()  # may retry / dismiss failed syncs, beside approvers
    # A legal entity's own approvers decide its deals' requests, and nobody else does.
    entity_users: dict[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, kind: str, user: str, directory: Directory, *,
               entity: str | None = None) -> bool:
        if entity is not None and self.entity_users.get(entity):
            return user in self.entity_users[entity]
        users, group = self._deciders(kind)
        if user in users:
            return True
        return bool(group) and user in directory.group_members(group or "")

    def may_operate(self, user: str, directory: Directory) -> bool:
        """Retry or dismiss a failed sync: the operators and the (deal) approvers."""
        return user in self.operators or self.allows("deal", user, directory)

    def nobody_for(self, kind: str) -> bool:
        """No user and no group may decide this kind: every click on its cards is refused."""
        users, group = self._deciders(kind)
        return not users and not group

    def _deciders(self, kind: str) -> tuple[frozenset[str], str | None]:
        if kind == "credit" and (self.credit_users or self.credit_group):
            return self.credit_users, self.credit_group
        if kind == "close" and self.close_users:
            return self.close_users, None
        return self.users, self.group


@dataclass(frozen=True)
class Channels:
    alerts: str = "#finance-alerts"
    approvals: str = "#finance-approvals"
    digest: str = "#finance-digest"


@dataclass
class Deps:
    sessions: sessionmaker[Session]
    directory: Directory
    render: Renderer
    policy: ApproverPolicy = field(default_factory=ApproverPolicy)
    channels: Channels = field(default_factory=Channels)
    links: Links = field(default_factory=Links)
    group_min: int = 5
    reminder_hours: int = 24
    erp: str = "ledger"
    now: Callable[[], datetime] = utcnow
