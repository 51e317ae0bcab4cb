"""What the void and tax worked examples share: the stack on each ERP, time moved for Stripe and
closebot together, and the books read back from every system."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import run_job, sync_once
from app.wiring import build_runtime
from sandbox.book import BookSeeder, DealSpec, demo_deals
from sandbox.stack import SandboxStack
from storage import queue
from storage.db import transaction
from storage.ledger import LedgerJournalEntry
from storage.tables import BillingInvoice, Deal
from storage.timeutil import utcnow
from sync.dates import add_months
from sync.engine.runtime import Runtime
from sync.ledger import Ledger
from tests.integration.conftest import make_settings

K = 100_000  # $1,000.00 in cents
# The ledger's chart, by code: (name, the side that increases it).
ACCOUNTS = {
    "1100": ("AR", "debit"), "2100": ("Deferred revenue", "credit"),
    "2300": ("Sales tax payable", "credit"), "4000": ("Subscription revenue", "credit"),
    "4100": ("Services revenue", "credit"), "6200": ("Bad debt expense", "debit"),
}


def erp_stack(request: pytest.FixtureRequest) -> Iterator[SandboxStack]:
    with SandboxStack(erp=request.param, slack=False) as stack:
        yield stack


# Every ERP closebot posts to.
books_stack = pytest.fixture(params=["ledger", "netsuite", "intacct"], name="books_stack")(
    erp_stack)


@pytest.fixture
def books_rt(books_stack: SandboxStack, db_url: str, sessions: sessionmaker[Session]
             ) -> Runtime:
    return clocked(books_stack, db_url, sessions)


def clocked(stack: SandboxStack, db_url: str, sessions: sessionmaker[Session],
            **overrides: Any) -> Runtime:
    """The runtime on the stack's emulators (settings `overrides`, such as
    recognize_on_delivery=True)."""
    runtime = build_runtime(make_settings(stack, db_url, **overrides), sessions)
    # closebot's clock follows Stripe's when a test moves it ahead, so both see the months pass
    # together; never behind the wall clock, which the queue also reads.
    runtime.now = lambda: max(utcnow(), datetime.fromtimestamp(stack.stripe.now, UTC))
    return runtime


def stripe_client(stack: SandboxStack) -> stripe.StripeClient:
    return stripe.StripeClient(stack.stripe.api_key, base_addresses={"api": stack.stripe.url})


def midnight(day: date) -> int:
    """The Unix time Stripe gives the start of `day` (UTC)."""
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def today(stack: SandboxStack) -> date:
    return datetime.fromtimestamp(stack.stripe.now, UTC).date()


def seed_acme(stack: SandboxStack, start: date) -> str:
    """The seed deal: $20K implementation (on delivery) + $100K subscription, 10 months from
    `start`, billed annually, Net 30."""
    return BookSeeder(stack.salesforce).seed(replace(demo_deals(start)[0], start=start))


def seed(stack: SandboxStack, deal: DealSpec) -> str:
    return BookSeeder(stack.salesforce).seed(deal)


def line_id(stack: SandboxStack, opp: str, product: str) -> str:
    """The opportunity's Salesforce line selling `product`."""
    (line,) = [r["Id"] for r in stack.salesforce.records("OpportunityLineItem")
               if r["OpportunityId"] == opp
               and stack.salesforce.get("Product2", r["Product2Id"])["Name"] == product]
    return str(line)


def advance_months(stack: SandboxStack, start: date, months: int) -> None:
    """Move Stripe's clock (and so closebot's) to `months` after `start`."""
    target = datetime.combine(add_months(start, months), datetime.min.time(), UTC)
    stack.stripe.advance(seconds=max(0, int(target.timestamp()) - stack.stripe.now))


def advance(stack: SandboxStack, *, days: int = 0, seconds: int = 0) -> None:
    stack.stripe.advance(seconds=seconds + days * 86_400)


def advance_past_renewal(stack: SandboxStack) -> None:
    """A month and a day on, so a monthly subscription's next invoice is out, whatever the
    month: Stripe creates a renewal invoice as a draft and finalizes it an hour later (applying
    the customer's credit balance then), and from a 31-day month 31 days lands on the renewal
    itself."""
    advance(stack, days=32)


def replay_post(rt: Runtime, opp: str) -> None:
    """Run the deal's post step again, as a replayed event or a person's Retry would."""
    with transaction(rt.sessions) as s:
        queue.arm(s, opportunity_id=opp, version=1, step="post")
    sync_once(rt)


def recognize(rt: Runtime) -> int:
    """The scheduler's revenue job, as it runs every few hours (the ledger only)."""
    return run_job(rt, "revenue").get("recognized", 0)


def mirrored(sessions: sessionmaker[Session], opp: str) -> list[BillingInvoice]:
    with transaction(sessions) as s:
        rows = list(s.scalars(select(BillingInvoice).where(BillingInvoice.opportunity_id == opp)
                              .order_by(BillingInvoice.issued_on, BillingInvoice.billing_id)))
        s.expunge_all()
        return rows


def deal_status(sessions: sessionmaker[Session], opp: str) -> str:
    with transaction(sessions) as s:
        deal = s.get(Deal, opp)
        assert deal is not None
        return deal.status


def ledger_books(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Each account's balance on its normal side, by name (zero when never posted)."""
    trial = Ledger(sessions).trial_balance("USD")
    return {name: trial.get(code, 0) * (1 if side == "debit" else -1)
            for code, (name, side) in ACCOUNTS.items()}


def journal_entries(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as s:
        return s.scalar(select(func.count()).select_from(LedgerJournalEntry)) or 0


def dollars(value: Any) -> int:
    """A NetSuite or Salesforce decimal amount in cents."""
    return int(Decimal(str(value)) * 100)


def ns_records(stack: SandboxStack, kind: str, external_id: str | None = None
               ) -> list[dict[str, Any]]:
    assert stack.netsuite is not None
    found = stack.netsuite.records(kind)
    return [r for r in found if external_id is None or r.get("externalId") == external_id]


def ns_lines(record: dict[str, Any]) -> list[tuple[str, int]]:
    """(item name, amount in cents) of a NetSuite transaction's item lines."""
    assert record is not None
    return [(str(line["item"].get("refName") or line["item"]["id"]), dollars(line["amount"]))
            for line in record["item"]["items"]]


def prorated(price: int, left: int, whole: int) -> int:
    """Stripe's share of a period price for the time left, to the cent, half up (periods start
    at midnight UTC, so its share by the second is one by whole days)."""
    return (2 * price * left + whole) // (2 * whole)


def current_period(start: date, on: date, months: int) -> tuple[int, int, int]:
    """(index, days left, days) of the billing period of `months` months holding `on`."""
    k = 0
    while add_months(start, (k + 1) * months) <= on:
        k += 1
    begin, end = add_months(start, k * months), add_months(start, (k + 1) * months)
    return k, (end - on).days, (end - begin).days


def on_ledger(stack: SandboxStack) -> bool:
    """The embedded ledger is the ERP (neither NetSuite's nor Sage Intacct's emulator runs)."""
    return stack.netsuite is None and stack.intacct is None


def ia_records(stack: SandboxStack, obj: str, reference: str | None = None
               ) -> list[dict[str, Any]]:
    """Sage Intacct records of an object (`accounts-receivable/invoice`, …), by reference."""
    assert stack.intacct is not None
    return [r for r in stack.intacct.records(obj)
            if reference is None or r.get("referenceNumber") == reference]


def ia_lines(record: dict[str, Any]) -> list[tuple[str, int]]:
    """(GL account, amount in cents) of a Sage Intacct AR document's lines."""
    return [(str(line["glAccount"]["id"]), dollars(line["txnAmount"]))
            for line in record["lines"]]
