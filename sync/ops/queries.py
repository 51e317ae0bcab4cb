"""Read-side services behind the slash commands. Every lookup is an indexed query with bound
parameters; text typed in Slack is data, never SQL or SOQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import links as id_links
from storage.tables import (
    Approval,
    BillingInvoice,
    Cursor,
    Deal,
    IdLink,
    SyncException,
    SyncRun,
    WorkItem,
)
from storage.timeutil import aware
from sync.contracts.terms import salesforce_id
from sync.engine.intake import CURSOR as INTAKE_CURSOR
from sync.money import format_money
from sync.ops.report import trace as build_trace
from sync.ops.surface import Links

MAX_INVOICES = 10
MAX_CUSTOMERS = 10


@dataclass(frozen=True)
class InvoiceView:
    number: str
    billing_id: str
    customer: str
    total: str
    status: str  # draft | open | paid | void | uncollectible | overdue
    paid: str
    outstanding: str
    issued_on: date | None
    due_on: date | None
    days_past_due: int
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DealState:
    """A deal that has no invoice to show, and why: held, failing or still on its way."""

    opportunity_id: str
    name: str
    customer: str | None
    status: str  # pending | synced | exception | awaiting_approval | rejected
    reason: str | None


@dataclass(frozen=True)
class InvoiceAnswer:
    query: str
    invoices: list[InvoiceView] = field(default_factory=list)
    customers: list[tuple[str, str]] = field(default_factory=list)  # (name key, display name)
    more: bool = False
    deals: list[DealState] = field(default_factory=list)  # matching deals without invoices


def invoice_view(row: BillingInvoice, links: Links, today: date) -> InvoiceView:
    late = row.status == "open" and row.due_on is not None and row.due_on < today
    found = {"Stripe": links.stripe_invoice(row.billing_id)}
    for label, url in (("Salesforce", links.opportunity(row.opportunity_id)),
                       ("ERP", links.erp_invoice(row.erp_invoice_id))):
        if url:
            found[label] = url
    return InvoiceView(
        number=row.number or row.billing_id, billing_id=row.billing_id,
        customer=row.customer_name or row.billing_customer_id,
        total=format_money(row.total_minor, row.currency),
        status="overdue" if late else row.status,
        paid=format_money(row.amount_paid_minor, row.currency),
        outstanding=format_money(row.amount_remaining_minor, row.currency),
        issued_on=row.issued_on, due_on=row.due_on,
        days_past_due=(today - row.due_on).days if late and row.due_on else 0, links=found,
    )


def find_invoices(session: Session, query: str, *, links: Links, today: date,
                  erp: str | None = None) -> InvoiceAnswer:
    """By invoice number (any case), Stripe invoice ID, the ERP's invoice number, opportunity ID
    (15 or 18 characters, any case), then customer-name prefix, each an indexed lookup; when
    none matches, the deals by that ID or name that have no invoice, and why."""
    text = query.strip()
    rows = _by_reference(session, text, erp)
    if rows:
        return _answer(text, rows, links, today)
    customers = customers_by_prefix(session, text)
    if len(customers) == 1:
        return invoices_of(session, customers[0][0], links=links, today=today, query=text)
    if customers:
        return InvoiceAnswer(query=text, customers=customers[:MAX_CUSTOMERS],
                             more=len(customers) > MAX_CUSTOMERS)
    return InvoiceAnswer(query=text, deals=deals_without_invoices(session, text))


def _by_reference(session: Session, text: str, erp: str | None) -> list[BillingInvoice]:
    # Invoice numbers are upper case in Stripe and in the ledger; people type them any way.
    spellings = list(dict.fromkeys((text, text.upper())))
    candidates: list[Any] = [BillingInvoice.number.in_(spellings),
                             BillingInvoice.billing_id == text]
    if erp:
        scopes = select(IdLink.scope).where(IdLink.system == erp, IdLink.kind == "invoice",
                                            IdLink.external_id.in_(spellings))
        ids = [scope.removeprefix(id_links.invoice_scope("")) for scope in session.scalars(scopes)]
        if ids:
            candidates.append(BillingInvoice.billing_id.in_(ids))
    candidates.append(BillingInvoice.opportunity_id == (salesforce_id(text) or text))
    for condition in candidates:
        rows = session.scalars(select(BillingInvoice).where(condition)
                               .order_by(BillingInvoice.issued_on.desc())
                               .limit(MAX_INVOICES + 1)).all()
        if rows:
            return list(rows)
    return []


def deals_without_invoices(session: Session, text: str) -> list[DealState]:
    """Deals matching by opportunity ID, or deal or customer name prefix, with no invoice yet."""
    by_id = session.get(Deal, salesforce_id(text) or text)
    if by_id is not None:
        found = [by_id]
    else:
        like = _like_prefix(text)
        found = list(session.scalars(
            select(Deal).where(func.lower(Deal.name).like(like, escape="\\")
                               | func.lower(Deal.account_name).like(like, escape="\\"))
            .order_by(Deal.name).limit(MAX_CUSTOMERS))) if like != "%" else []
    invoiced = set(session.scalars(select(BillingInvoice.opportunity_id).where(
        BillingInvoice.opportunity_id.in_([d.opportunity_id for d in found])))) if found else set()
    return [DealState(opportunity_id=d.opportunity_id, name=d.name, customer=d.account_name,
                      status=d.status, reason=_why(session, d))
            for d in found if d.opportunity_id not in invoiced]


def _why(session: Session, deal: Deal) -> str | None:
    if deal.status == "exception":
        return session.scalar(select(SyncException.reason).where(
            SyncException.opportunity_id == deal.opportunity_id, SyncException.status == "open")
            .order_by(SyncException.id.desc()).limit(1))
    if deal.status == "awaiting_approval":
        approval = session.scalar(select(Approval).where(
            Approval.opportunity_id == deal.opportunity_id, Approval.status == "pending")
            .order_by(Approval.id.desc()).limit(1))
        return "; ".join(r["what"] for r in approval.reasons or []) if approval else None
    return deal.message if deal.status == "rejected" else None


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def invoices_of(session: Session, name_key: str, *, links: Links, today: date,
                query: str | None = None) -> InvoiceAnswer:
    rows = session.scalars(select(BillingInvoice)
                           .where(BillingInvoice.customer_name_key == name_key)
                           .order_by(BillingInvoice.issued_on.desc(),
                                     BillingInvoice.billing_id.desc())
                           .limit(MAX_INVOICES + 1)).all()
    return _answer(query or name_key, rows, links, today)


def _answer(query: str, rows: Any, links: Links, today: date) -> InvoiceAnswer:
    rows = list(rows)
    return InvoiceAnswer(query=query, more=len(rows) > MAX_INVOICES,
                         invoices=[invoice_view(r, links, today) for r in rows[:MAX_INVOICES]])


def customers_by_prefix(session: Session, text: str) -> list[tuple[str, str]]:
    """Distinct customers whose name starts with `text`, by skipping through the name index:
    one index seek per customer, however many invoices each has."""
    prefix = text.lower()
    if not prefix:
        return []
    key: Any = BillingInvoice.customer_name_key
    if session.get_bind().dialect.name == "postgresql":
        key = key.collate("C")  # byte order, served by ix_invoices_customer_name_c
    upper = prefix + "\U0010ffff"
    found: list[tuple[str, str]] = []
    last: str | None = None
    while len(found) <= MAX_CUSTOMERS:
        cond = ((key > last) if last is not None else (key >= prefix)) & (key < upper)
        row = session.execute(select(BillingInvoice.customer_name_key,
                                     BillingInvoice.customer_name)
                              .where(cond).order_by(key).limit(1)).first()
        if row is None:
            break
        last = row[0]
        found.append((row[0], row[1] or row[0]))
    return found


@dataclass(frozen=True)
class StatusView:
    counts: dict[str, int]
    last_runs: dict[str, datetime | None]
    intake_lag: timedelta | None
    exceptions: list[tuple[int, str]]  # (id, reason), newest first
    more_exceptions: int


def sync_status(session: Session, *, now: datetime, limit: int = 10) -> StatusView:
    since = now - timedelta(hours=24)
    counts = {
        "synced": _count(session, Deal, Deal.status == "synced", Deal.updated_at >= since),
        "failed": _count(session, SyncException, SyncException.created_at >= since),
        "pending": _count(session, WorkItem, WorkItem.status.in_(("pending", "running"))),
        "awaiting approval": _count(session, Approval, Approval.status == "pending"),
    }
    runs = session.execute(select(SyncRun.system, func.max(SyncRun.finished_at))
                           .where(SyncRun.status == "ok").group_by(SyncRun.system)).all()
    cursor = session.get(Cursor, INTAKE_CURSOR)
    lag = now - aware(datetime.fromisoformat(cursor.value)) if cursor else None
    open_rows = session.execute(select(SyncException.id, SyncException.reason)
                                .where(SyncException.status == "open")
                                .order_by(SyncException.id.desc()).limit(limit + 1)).all()
    total_open = _count(session, SyncException, SyncException.status == "open")
    return StatusView(counts=counts, last_runs={s or "?": aware(t) for s, t in runs},
                      intake_lag=lag, exceptions=[(i, r) for i, r in open_rows[:limit]],
                      more_exceptions=max(0, total_open - limit))


def _count(session: Session, table: Any, *conds: Any) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*conds)) or 0


@dataclass(frozen=True)
class TraceAnswer:
    query: str
    opportunity_id: str | None = None
    name: str | None = None
    hops: list[dict[str, Any]] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)  # (opportunity id, name)
    in_crm_only: list[tuple[str, str]] = field(default_factory=list)


def find_trace(session: Session, query: str, *, erp: str, crm: Any = None) -> TraceAnswer:
    """By opportunity ID (15 or 18 characters, any case), then deal-name prefix in closebot;
    then (escaped) in Salesforce."""
    text = query.strip()
    deal = session.get(Deal, salesforce_id(text) or text)
    if deal is None:
        rows = session.execute(select(Deal.opportunity_id, Deal.name)
                               .where(func.lower(Deal.name).like(_like_prefix(text),
                                                                 escape="\\"))
                               .order_by(Deal.name).limit(MAX_CUSTOMERS)).all()
        if len(rows) > 1:
            return TraceAnswer(query=text, choices=[(o, n) for o, n in rows])
        deal = session.get(Deal, rows[0][0]) if rows else None
    if deal is None:
        remote = crm.find_opportunities(text, limit=5) if crm is not None else []
        return TraceAnswer(query=text, in_crm_only=[(r["Id"], r.get("Name") or r["Id"])
                                                    for r in remote])
    return TraceAnswer(query=text, opportunity_id=deal.opportunity_id, name=deal.name,
                       hops=build_trace(session, deal.opportunity_id, erp=erp))


def read(sessions: Any, func: Any, /, **kwargs: Any) -> Any:
    """Run one read-side query in its own short transaction."""
    from storage.db import transaction

    with transaction(sessions) as session:
        return func(session, **kwargs)
