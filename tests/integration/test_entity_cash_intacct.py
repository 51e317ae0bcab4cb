"""Each legal entity's Stripe cash booked in its own Sage Intacct entity: Acme Inc (US-E, USD)
and Acme Ltd (UK-E, GBP), each a Stripe Connect account of the platform; the worked example
of tests/integration/test_entity_cash_netsuite.py on Sage Intacct.

    Acme Inc, USD: payment 1,000.00 into Clearing; fee 29.30; payout 970.70 to Cash.
    Acme Ltd, GBP: payment 500.00 into Clearing; fee 14.80; payout 485.20 to Cash.

Read at each entity's level, its Clearing holds its own payment before the cash run (none of
the other entity's, even in the other's currency) and nets to 0 after; every cash record
belongs to its entity; each entity's audit is clean; a replay posts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from tests.integration.entity_cash import (
    assert_each_entity_settled,
    both_paid_out,
    entities,
    entity_runtime,
)

ENTITIES = entities(intacct_entity=("US-E", "UK-E"))
CASH_OBJECTS = ("general-ledger/journal-entry",
                "accounts-receivable/adjustment")


@pytest.fixture
def ia_stack() -> Iterator[SandboxStack]:
    with SandboxStack(erp="intacct", slack=False) as stack:
        yield stack


@pytest.fixture
def rt(ia_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]) -> Runtime:
    return entity_runtime(ia_stack, db_url, sessions, entities=ENTITIES)


def _clearing(rt: Runtime) -> dict[str, dict[str, int]]:
    return {name: {c: rt.entity_cash[name].erp.clearing_balance(c) for c in ("USD", "GBP")}
            for name in ("Acme Inc", "Acme Ltd")}


def _owned(stack: SandboxStack) -> dict[str, list[str | None]]:
    assert stack.intacct is not None
    with stack.intacct.store.lock:
        return {obj: sorted((r.get("entity") or {}).get("id")
                            for r in stack.intacct.store.rows.get(obj, {}).values())
                for obj in CASH_OBJECTS}


def test_each_entitys_cash_books_in_its_own_intacct_entity(ia_stack: SandboxStack,
                                                            rt: Runtime) -> None:
    stack = ia_stack
    both_paid_out(stack, rt)
    assert _clearing(rt) == {"Acme Inc": {"USD": 100_000, "GBP": 0},
                             "Acme Ltd": {"USD": 0, "GBP": 50_000}}

    counts = run_job(rt, "cash")
    assert counts["cash_exceptions"] == 0
    assert (counts["payouts"], counts["settled"]) == (2, 2)
    assert _clearing(rt) == {"Acme Inc": {"USD": 0, "GBP": 0}, "Acme Ltd": {"USD": 0, "GBP": 0}}
    owned = _owned(stack)
    assert None not in [e for owners in owned.values() for e in owners], owned
    assert_each_entity_settled(rt)

    run_job(rt, "cash")  # a replay posts nothing again
    assert _owned(stack) == owned
