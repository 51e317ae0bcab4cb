"""The go-live import: link what already exists in Stripe and the ERP (customers,
subscriptions, open invoices) to the CRM's accounts and closed-won deals, so the pipeline uses
those records instead of creating second ones.

It reads everything first, decides with the rules of `golive.py`, then records the links in
closebot's ID links a chunk at a time. Every decision depends only on what was read, and a link
is stored once (a second, equal one is "already linked"), so after a kill a re-run links what is
left and nothing twice. It writes nothing to the CRM, Stripe or the ERP.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from storage import links
from storage.db import transaction
from storage.tables import BillingInvoice, Deal, IdLink
from sync.engine import invoice_mirror
from sync.engine.runtime import Runtime
from sync.ops.golive import Target
from sync.ops.golive_decide import Books, Line, decide

CHUNK = 100
STATUSES = ("linked", "already linked", "conflict", "ambiguous", "unmatched")
T = TypeVar("T")


class Progress(Protocol):
    def start(self, label: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Quiet:
    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class ImportReport:
    erp: str
    lines: list[Line] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(line.status in ("ambiguous", "conflict") for line in self.lines)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for line in self.lines:
            row = out.setdefault(f"{line.system} {line.kind}s", {})
            row[line.status] = row.get(line.status, 0) + 1
        return {what: {s: row[s] for s in STATUSES if s in row} for what, row in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "erp": self.erp, "counts": self.counts(),
                "records": [line.to_dict() for line in self.lines]}


def run_import(rt: Runtime, progress: Progress | None = None, *,
               chunk: int = CHUNK) -> ImportReport:
    bar = progress or Quiet()
    books = Books(
        accounts=[Target(a.id, a.name, a.email) for a in _read(bar, "Salesforce accounts",
                                                              rt.crm.accounts())],
        deals=[Target(d.opportunity_id, str(d.fields.get("Name") or d.opportunity_id),
                      account_id=d.fields.get("AccountId"))
               for d in _read(bar, "Salesforce closed-won deals", rt.crm.closed_won_since(None))],
        customers=_read(bar, "Stripe customers", rt.billing.customers()),
        subscriptions=_read(bar, "Stripe subscriptions", rt.billing.subscriptions()),
        invoices=_read(bar, "Stripe open invoices", rt.billing.open_invoices()),
        erp_customers=_read(bar, f"{rt.erp.name} customers", rt.erp.customers()),
        erp_invoices=_read(bar, f"{rt.erp.name} open invoices", rt.erp.open_invoices()),
    )
    lines = decide(books, erp=rt.erp.name, versions=_versions(rt, books))
    report = ImportReport(erp=rt.erp.name, lines=lines)
    todo = [line for line in lines if line.status == "linked"]
    bar.start("Linking", len(todo))
    for start in range(0, len(todo), chunk):
        part = todo[start:start + chunk]
        _record(rt, part, books)
        bar.advance(len(part))
    return report


def _read(bar: Progress, label: str, pages: Iterator[list[T]]) -> list[T]:
    bar.start(f"Reading {label}")
    rows: list[T] = []
    for page in pages:
        rows += page
        bar.advance(len(page))
    return rows


def _versions(rt: Runtime, books: Books) -> dict[str, int]:
    """The contract version a deal's subscription belongs to: the one closebot is at, or the
    first one the next intake will make."""
    ids = [d.id for d in books.deals]
    with transaction(rt.sessions) as session:
        known = dict(session.execute(select(Deal.opportunity_id, Deal.current_version)
                                     .where(Deal.opportunity_id.in_(ids))).all()) if ids else {}
    return {opp: known.get(opp) or 1 for opp in ids}


def _record(rt: Runtime, part: list[Line], books: Books) -> None:
    """One chunk, in one transaction: an equal link already stored is "already linked"; a
    different one is a conflict a person must look at (and is left as it is)."""
    with transaction(rt.sessions) as session:
        existing = _existing(session, [line.link for line in part if line.link])
        for line in part:
            assert line.link is not None
            key = (line.link["scope"], line.link["system"], line.link["kind"])
            if key in existing:
                same = existing[key] == line.link["external_id"]
                line.status = "already linked" if same else "conflict"
                if not same:
                    line.reason = f"closebot already links it to {existing[key]}"
        links.record_many(session, [line.link for line in part
                                    if line.link and line.status == "linked"])
        _mirror(session, [line for line in part if line.invoice is not None], books)


def _existing(session: Any, rows: Iterable[dict[str, str | None]]) -> dict[tuple[str, ...], str]:
    scopes = sorted({str(r["scope"]) for r in rows})
    if not scopes:
        return {}
    return {(s, sy, k): e for s, sy, k, e in session.execute(
        select(IdLink.scope, IdLink.system, IdLink.kind, IdLink.external_id)
        .where(IdLink.scope.in_(scopes)))}


def _mirror(session: Any, lines: list[Line], books: Books) -> None:
    """An ERP open invoice matched to a Stripe invoice: the mirror knows it is in the ERP
    already, and what the ERP has settled on it, so the post step neither posts it again nor
    applies a payment twice."""
    if not lines:
        return
    ids = [line.invoice.billing_id for line in lines if line.invoice is not None]
    rows = {r.billing_id: r for r in session.scalars(
        select(BillingInvoice).where(BillingInvoice.billing_id.in_(ids)))}
    # A mirror row newer than what was read (events move invoices on) is kept as it is.
    invoice_mirror.upsert_many(session, [
        (line.invoice, line.account_id, line.customer_name) for line in lines
        if line.invoice is not None
        and not invoice_mirror.is_stale(rows.get(line.invoice.billing_id), line.invoice)])
    rows = {r.billing_id: r for r in session.scalars(
        select(BillingInvoice).where(BillingInvoice.billing_id.in_(ids)))}
    for line in lines:
        assert line.invoice is not None and line.erp_invoice is not None
        row = rows[line.invoice.billing_id]
        if row.erp_invoice_id in (None, line.erp_invoice.id):
            row.erp_invoice_id = line.erp_invoice.id
            row.erp_paid_minor = max(row.erp_paid_minor or 0,
                                     line.erp_invoice.total_minor - line.erp_invoice.open_minor)
