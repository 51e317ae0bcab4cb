"""The go-live import's decisions: one `Line` per Stripe or ERP record, saying which CRM record
it is (with the rule, and the score of a fuzzy match), or why none, or which several."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage import links
from sync.model import Invoice
from sync.money import format_money
from sync.ops.golive import Index, Score, Target, Verdict, deal_of, match, plain_name
from sync.ports import BillingCustomer, BillingSubscription, ErpCustomer, ErpInvoice

SYSTEMS = {"stripe": "Stripe", "ledger": "Ledger", "netsuite": "NetSuite"}


@dataclass
class Books:
    """Everything read, before any decision."""

    accounts: list[Target]
    deals: list[Target]
    customers: list[BillingCustomer]
    subscriptions: list[BillingSubscription]
    invoices: list[Invoice]
    erp_customers: list[ErpCustomer]
    erp_invoices: list[ErpInvoice]


@dataclass
class Line:
    system: str
    kind: str  # customer | subscription | open invoice
    id: str
    name: str
    status: str  # linked | already linked | conflict | ambiguous | unmatched
    target: str | None = None
    target_id: str | None = None
    rule: str | None = None
    score: Score | None = None
    reason: str | None = None
    amount: str | None = None
    candidates: list[str] = field(default_factory=list)
    link: dict[str, str | None] | None = None
    # An ERP open invoice matched to a Stripe invoice, for the invoice mirror.
    invoice: Invoice | None = None
    erp_invoice: ErpInvoice | None = None
    account_id: str | None = None
    customer_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        keys = ("system", "kind", "id", "name", "status", "target", "target_id", "rule",
                "score", "reason", "amount", "candidates")
        return {k: getattr(self, k) for k in keys}


def _line(system: str, kind: str, record_id: str, name: str, verdict: Verdict,
          **rest: Any) -> Line:
    if (found := verdict.match) is not None:
        t = found.target
        return Line(system, kind, record_id, name, "linked", f"{t.name} ({t.id})", t.id,
                    found.rule, found.score if found.rule == "fuzzy name" else None, **rest)
    if verdict.found:
        return Line(system, kind, record_id, name, "ambiguous", reason=verdict.reason,
                    candidates=[f"{f.target.name} ({f.target.id})"
                                + (f", score {f.score:.2f}" if f.rule == "fuzzy name" else "")
                                for f in verdict.found], **rest)
    return Line(system, kind, record_id, name, "unmatched", reason=verdict.reason, **rest)


def _collide(lines: Sequence[Line], what: str) -> None:
    """Two records claiming one CRM record: neither is linked, a person picks."""
    by_target: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        if line.status == "linked" and line.target_id:
            by_target[line.target_id].append(line)
    for group in by_target.values():
        if len(group) > 1:
            for line in group:
                line.status, line.link = "ambiguous", None
                line.reason = f"{line.target} matches {len(group)} {what}"
                line.candidates = [f"{other.name} ({other.id})" for other in group]


def decide(books: Books, *, erp: str, versions: dict[str, int]) -> list[Line]:
    accounts = Index.of(books.accounts)
    erp_name = SYSTEMS.get(erp, erp)
    stripe = [_line("Stripe", "customer", c.id, c.name or c.email or c.id,
                    match(accounts, named=c.metadata.get("sf_account_id"), name=c.name,
                          email=c.email)) for c in books.customers]
    ours = [_line(erp_name, "customer", c.id, c.name,
                  match(accounts, named=c.external_id, name=c.name, email=c.email))
            for c in books.erp_customers]
    for group, system in ((stripe, "stripe"), (ours, erp)):
        _collide(group, f"{SYSTEMS.get(system, system)} customers")
        for line in group:
            if line.status == "linked" and line.target_id:
                line.link = {"scope": links.account_scope(line.target_id), "system": system,
                             "kind": "customer", "external_id": line.id, "opportunity_id": None}
    account_of = {line.id: line.target_id for line in stripe if line.status == "linked"}
    names = {c.id: c.name or c.email or c.id for c in books.customers}
    subs = _subscriptions(books, account_of, versions, names)
    deal_of_sub = {line.id: line.target_id for line in subs if line.status == "linked"}
    invoices = _erp_invoices(books, erp, erp_name, deal_of_sub, versions, account_of, names)
    return [*stripe, *subs, *ours, *invoices]


def _subscriptions(books: Books, account_of: dict[str, str | None],
                   versions: dict[str, int], names: dict[str, str]) -> list[Line]:
    lines = []
    for s in books.subscriptions:
        verdict = deal_of(books.deals, named=s.metadata.get("sf_opportunity_id"),
                          account_id=account_of.get(s.customer_id), description=s.description)
        amount = format_money(s.period_minor, s.currency) if s.currency else None
        name = s.description or f"of {names.get(s.customer_id, s.customer_id)}"
        line = _line("Stripe", "subscription", s.id, name, verdict, amount=amount)
        if line.status == "linked" and line.target_id:
            opp = line.target_id
            line.link = {"scope": links.contract_scope(opp, versions.get(opp, 1)),
                         "system": "stripe", "kind": "subscription", "external_id": s.id,
                         "opportunity_id": opp}
        lines.append(line)
    _collide(lines, "Stripe subscriptions")
    return lines


def _erp_invoices(books: Books, erp: str, erp_name: str, deal_of_sub: dict[str, str | None],
                  versions: dict[str, int], account_of: dict[str, str | None],
                  names: dict[str, str]) -> list[Line]:
    """ERP open invoices ↔ Stripe open invoices: by closebot's external ID (the Stripe invoice
    ID), else by the invoice number both carry; the deal is the Stripe invoice's."""
    by_id = {i.billing_id: i for i in books.invoices}
    by_number: dict[str, list[Invoice]] = defaultdict(list)
    for i in books.invoices:
        if i.number:
            by_number[plain_name(i.number)].append(i)
    deals = {d.id: d for d in books.deals}
    lines = []
    for e in books.erp_invoices:
        rule = "external ID" if e.external_id in by_id else "invoice number"
        hits = ([by_id[str(e.external_id)]] if e.external_id in by_id
                else by_number.get(plain_name(e.number), []))
        amount = f"{format_money(e.open_minor, e.currency)} open"
        line = Line(erp_name, "open invoice", e.id, e.number or e.id, "unmatched", amount=amount,
                    reason=f"no open Stripe invoice has number {e.number or '(none)'}")
        if len(hits) > 1:
            line.status, line.reason = "ambiguous", f"{len(hits)} Stripe invoices have its number"
            line.candidates = [i.billing_id for i in hits]
        elif hits:
            inv = hits[0]
            opp = inv.opportunity_id if inv.opportunity_id in deals else deal_of_sub.get(
                inv.subscription_id or "")
            deal = f", deal {deals[opp].name}" if opp in deals else ""
            line.status, line.reason, line.rule = "linked", None, rule
            line.target, line.target_id = f"Stripe invoice {inv.number}{deal}", inv.billing_id
            line.invoice = inv.model_copy(update={
                "opportunity_id": opp, "contract_version": versions.get(opp or "")}) if opp else inv
            line.erp_invoice, line.account_id = e, account_of.get(inv.billing_customer_id)
            line.customer_name = names.get(inv.billing_customer_id)
            line.link = {"scope": links.invoice_scope(inv.billing_id), "system": erp,
                         "kind": "invoice", "external_id": e.id, "opportunity_id": opp}
        lines.append(line)
    _collide(lines, f"{erp_name} open invoices")
    return lines
