"""What the engine runs with: configuration, the database, and one connector per system."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.timeutil import utcnow
from sync.contracts.entities import Entities
from sync.contracts.policy import PolicyLimits
from sync.ports import Billing, Crm, Erp
from sync.ports_cash import CashPorts

log = logging.getLogger("closebot.engine")


@dataclass(frozen=True)
class EngineConfig:
    required_fields: tuple[str, ...]
    limits: PolicyLimits = field(default_factory=PolicyLimits)
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 900.0
    lease: timedelta = timedelta(minutes=5)
    batch_size: int = 200
    intake_overlap: timedelta = timedelta(seconds=60)
    # Stripe keeps idempotency keys for 24 hours; after that a retry must look before it creates.
    idempotency_window: timedelta = timedelta(hours=23)
    # The audit's money comparisons accept differences up to this many minor units.
    audit_tolerance_minor: int = 0
    # The legal entities deals are routed to; empty: one company (sync/contracts/entities.py).
    entities: Entities = field(default_factory=Entities)


@dataclass
class Runtime:
    config: EngineConfig
    sessions: sessionmaker[Session]
    crm: Crm
    billing: Billing
    erp: Erp
    worker_id: str
    now: Callable[[], datetime] = utcnow
    cash: CashPorts | None = None  # Stripe's balance and the ERP's cash books (sync.cash)
    # A legal entity's own Stripe account (its key, or its Connect account), by entity name;
    # an entity not here bills through `billing`.
    entity_billing: dict[str, Billing] = field(default_factory=dict)

    # A legal entity's place in the ERP (its NetSuite subsidiary), by entity name; an entity not
    # here posts through `erp`.
    entity_erp: dict[str, Erp] = field(default_factory=dict)

    # A legal entity's own Stripe account's cash and its place in the ERP's cash books, by
    # entity name; an entity not here has its cash in `cash`, the company's account.
    entity_cash: dict[str, CashPorts] = field(default_factory=dict)

    def cash_for(self, entity: str | None) -> CashPorts | None:
        """The cash books a deal of this entity is paid into."""
        return self.entity_cash.get(entity, self.cash) if entity else self.cash

    def erp_for(self, entity: str | None) -> Erp:
        """The ERP as a contract of this entity is posted to."""
        return self.entity_erp.get(entity, self.erp) if entity else self.erp

    def billing_for(self, entity: str | None) -> Billing:
        """The Stripe account a contract of this entity is billed in."""
        return self.entity_billing.get(entity, self.billing) if entity else self.billing
