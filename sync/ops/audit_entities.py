"""The audit by legal entity: each entity's figures and variances beside the company's total.

A deal's entity is the one its latest contract version records (sync/contracts/entities.py);
deals closebot never took in, or taken in without entities configured, count under no entity.
Every Stripe account the engine bills in is read, so an entity's own account is audited too.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import Runtime
from sync.ops.audit_cash import check_cash
from sync.ops.audit_money import Totals
from sync.ops.audit_variance import Found, Variance
from sync.ports_books import BillingBooks
from sync.ports_cash import CashPorts

__all__ = ["NO_ENTITY", "EntityTotals", "add_entity_cash", "billing_books", "by_entity",
           "check_entity_cash", "entities_of"]

NO_ENTITY = "(no entity)"


def billing_books(rt: Runtime) -> BillingBooks:
    """What every Stripe account bills: the company's and each entity's own."""
    accounts = [rt.billing.books(), *(b.books() for b in rt.entity_billing.values())]
    if len(accounts) == 1:
        return accounts[0]
    return BillingBooks(
        customers=tuple(c for books in accounts for c in books.customers),
        subscriptions=tuple(s for books in accounts for s in books.subscriptions),
        invoices=tuple(i for books in accounts for i in books.invoices),
        credits=tuple(c for books in accounts for c in books.credits))


class EntityTotals(Totals):
    """The company's totals that also add each deal's figures to its entity's."""

    def __init__(self) -> None:
        super().__init__()
        self.entities: dict[str, Totals] = {}
        self.current: str | None = None  # the entity of the deal being checked

    def deal_of(self, entity: str | None) -> None:
        self.current = entity or NO_ENTITY

    def add(self, currency: str, **amounts: int) -> None:
        super().add(currency, **amounts)
        if self.current is not None:
            self.entities.setdefault(self.current, Totals()).add(currency, **amounts)


def by_entity(totals: EntityTotals, variances: list[Variance],
              entities: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per entity: its figures per currency and how many variances it has (none: clean).
    Empty when no deal has an entity, so a single company's audit reads as before."""
    if not entities:
        return {}
    failing = Counter(entities.get(v.opportunity_id or "", NO_ENTITY)
                      for v in variances if not v.excused_by)
    names = sorted(set(totals.entities) | set(failing))
    return {name: {"totals": totals.entities[name].to_dict() if name in totals.entities else {},
                   "variances": failing.get(name, 0)} for name in names}


CashFigures = dict[str, dict[str, int]]  # currency → Stripe's balance, Clearing, still to book


def check_entity_cash(found: Found, entity: str, cash: CashPorts,
                      sessions: sessionmaker[Session], erp_name: str,
                      step: Callable[[str, int], None]) -> CashFigures:
    """The cash audit of an entity's own Stripe account against its own Clearing; each
    variance names the entity. Returns its figures for the tie-out."""
    figures: CashFigures = {}
    mine = Found(tolerance=found.tolerance)
    step(f"{entity}'s Stripe payouts and balance checked against its Clearing",
         check_cash(mine, cash, sessions, erp_name, figures))
    for variance in mine.variances:
        found.variances.append(dataclasses.replace(variance, reason=f"{entity}: {variance.reason}"))
    return figures


def add_entity_cash(totals: EntityTotals, figures: dict[str, CashFigures]) -> None:
    """Each entity's cash figures, to its totals and to the company's total."""
    for entity, currencies in figures.items():
        totals.current = entity
        for currency, amounts in currencies.items():
            totals.add(currency, **amounts)
    totals.current = None
