"""Billing events: keep the invoice mirror current and re-post what changed.

Events arrive by webhook and by polling `/v1/events` (which catches any webhook that never
came). Either way an event is only a hint: it may be late, duplicated or out of order, so a
snapshot older than the mirror is ignored and anything newer is re-read from Stripe itself.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import queue
from storage.db import transaction
from storage.tables import BillingInvoice, Cursor, Deal, IdLink
from sync.cash import payment_invoices
from sync.engine import invoice_mirror
from sync.engine.entity_accounts import entities_of
from sync.engine.runtime import Runtime, log
from sync.model import Invoice
from sync.ports import Billing, BillingEvent

CURSOR = "stripe.events"


def poll_events(rt: Runtime) -> Counter[str]:
    """Read events since the cursor and apply the invoice ones: the company's Stripe account's,
    then each legal entity's own account's, each with its own cursor."""
    counts = _poll(rt, rt.billing, CURSOR)
    for entity, billing in rt.entity_billing.items():
        counts += _poll(rt, billing, f"{CURSOR}:{entity}"[:64])
    return counts


def _poll(rt: Runtime, billing: Billing, cursor: str) -> Counter[str]:
    """One account's events since its cursor.

    Only the newest snapshot of each invoice is kept while paging (the invoice is re-read
    anyway when it moved on), so memory stays small however many events are waiting.
    """
    counts: Counter[str] = Counter()
    with transaction(rt.sessions) as session:
        row = session.get(Cursor, cursor)
        created_gte, seen = _parse_cursor(row.value if row else None)
    # Per invoice, the snapshot of its newest event; insertion order is the listing's.
    latest: dict[str, Invoice] = {}
    newest: tuple[int, set[str]] | None = None
    starting_after = None
    paid: list[tuple[str, str]] = []  # (payment, invoice): for the cash run's refunds
    while True:
        page = billing.events(created_gte=created_gte, starting_after=starting_after)
        for event in page.events:
            if newest is None or event.created > newest[0]:
                newest = (event.created, {event.id})
            elif event.created == newest[0]:
                newest[1].add(event.id)
            if (pair := event.paid_by()) is not None:
                paid.append(pair)
            if event.id in seen or not event.is_invoice:
                counts["ignored"] += 1
                continue
            # Stripe lists events newest first, ties within a second included, so the first
            # event seen for an invoice is its newest; the rest are skipped unconverted. (Event
            # ids are random, so they can't order two events of the same second.)
            if event.object_id not in latest:
                latest[event.object_id] = event.invoice()
        if not page.has_more or not page.events:
            break
        starting_after = page.events[-1].id
    fresh = _not_stale(rt, list(latest.values()))
    counts["stale"] += len(latest) - len(fresh)
    for snapshot in reversed(fresh):  # oldest first
        counts[apply_snapshot(rt, snapshot, billing=billing)] += 1
    if newest is not None:
        with transaction(rt.sessions) as session:
            counts["payments"] += payment_invoices.remember(session, paid)
            _store_cursor(session, newest[0], newest[1], name=cursor)
    return counts


def _not_stale(rt: Runtime, snapshots: list[Invoice]) -> list[Invoice]:
    """The snapshots that say something the mirror doesn't know yet, checked in one query."""
    if not snapshots:
        return []
    with transaction(rt.sessions) as session:
        rows = {r.billing_id: r for r in session.scalars(
            select(BillingInvoice).where(
                BillingInvoice.billing_id.in_([s.billing_id for s in snapshots]))
        )}
        return [s for s in snapshots if not invoice_mirror.is_stale(rows.get(s.billing_id), s)]


def apply_event(rt: Runtime, event: BillingEvent, *, billing: Billing | None = None) -> str:
    """`billing`: the Stripe account the event came from, when its delivery says so."""
    if (pair := event.paid_by()) is not None:
        payment_invoices.remember_now(rt.sessions, [pair])
        return "remembered"
    if not event.is_invoice:
        return "ignored"
    return apply_snapshot(rt, event.invoice(), billing=billing)


def apply_snapshot(rt: Runtime, snapshot: Invoice, *, billing: Billing | None = None) -> str:
    with transaction(rt.sessions) as session:
        if invoice_mirror.is_stale(session.get(BillingInvoice, snapshot.billing_id), snapshot):
            return "stale"
    if billing is None and rt.entity_billing and snapshot.opportunity_id:
        # A connected account's event: the invoice is re-read where its entity bills.
        with transaction(rt.sessions) as session:
            entity = entities_of(session, [snapshot.opportunity_id]).get(
                snapshot.opportunity_id)
        billing = rt.billing_for(entity)
    current = (billing or rt.billing).invoice(snapshot.billing_id)
    with transaction(rt.sessions) as session:
        return refresh_invoice(session, current)


def refresh_invoice(session: Session, current: Invoice) -> str:
    owner = _owner(session, current)
    if owner is None:
        return "unlinked"
    opportunity_id, version = owner
    deal = session.get(Deal, opportunity_id)
    if deal is None and session.get(BillingInvoice, current.billing_id) is None:
        # Billed for a deal this database never took in: a Stripe account another closebot
        # database used, or a wiped database. Nothing here can post or write it back.
        log.warning(
            "skipped Stripe invoice %s (number %s): it belongs to opportunity %s, which this "
            "closebot database has never taken in", current.billing_id, current.number or "-",
            opportunity_id, extra={"opportunity_id": opportunity_id},
        )
        return "unknown_deal"
    invoice_mirror.upsert(
        session,
        current.model_copy(update={"opportunity_id": opportunity_id,
                                   "contract_version": version}),
        account_id=deal.account_id if deal else None,
        customer_name=deal.account_name if deal else None,
    )
    if current.status.value != "draft":
        queue.arm(session, opportunity_id=opportunity_id, version=version, step="post")
    queue.arm(session, opportunity_id=opportunity_id, version=version, step="writeback")
    return "applied"


def _owner(session: Session, invoice: Invoice) -> tuple[str, int] | None:
    row = session.get(BillingInvoice, invoice.billing_id)
    if row is not None and row.opportunity_id and row.contract_version:
        return row.opportunity_id, row.contract_version
    if invoice.opportunity_id and invoice.contract_version:
        return invoice.opportunity_id, invoice.contract_version
    if invoice.subscription_id:
        # An amended contract's versions share one subscription; new invoices are the latest's.
        scope = session.scalar(
            select(IdLink.scope)
            .where(
                IdLink.system == "stripe", IdLink.kind == "subscription",
                IdLink.external_id == invoice.subscription_id,
            )
            .order_by(IdLink.id.desc())
            .limit(1)
        )
        if scope:
            _, opp, version = scope.split(":")
            return opp, int(version.lstrip("v"))
    return None


def _parse_cursor(value: str | None) -> tuple[int | None, set[str]]:
    if not value:
        return None, set()
    created, _, ids = value.partition("|")
    return int(created), set(filter(None, ids.split(",")))


def _store_cursor(session: Session, created: int, ids: set[str], *,
                  name: str = CURSOR) -> None:
    value = f"{created}|{','.join(sorted(ids))}"[:64]
    row = session.get(Cursor, name, with_for_update=True)
    if row is None:
        session.add(Cursor(name=name, value=value))
    else:
        row.value = value
