"""`closebot audit`: the books' invariants, checked against every system after the fact.

Reads Salesforce (through the CRM connector's client), Stripe (full paginated lists), the ERP
and closebot's own database, and reports each violation in words a finance reader can act on:

- duplicates: an account with two Stripe customers, a contract version with two subscriptions
  (or two one-time invoices), a Stripe invoice posted twice to the ERP, two ERP records with one
  external ID;
- lost deals: every closed-won opportunity is synced, awaiting approval, rejected by a person,
  or an open exception with a Slack alert;
- money: every journal entry balances; ERP AR per invoice equals Stripe's open balance;
- write-back: the IDs on each Salesforce opportunity equal closebot's ID links.
It is also the oracle of the chaos and replica tests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage import links
from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal, SyncException, WorkItem
from sync.engine.runtime import Runtime
from sync.money import format_money
from sync.ports import ErpBooks

ID_FIELDS = {
    "Stripe_Customer_Id__c": ("account", "stripe", "customer"),
    "Stripe_Subscription_Id__c": ("contract", "stripe", "subscription"),
    "ERP_Sales_Order_Id__c": ("contract", None, "sales_order"),
}


@dataclass
class AuditReport:
    opportunities: int = 0
    duplicate_customers: list[str] = field(default_factory=list)
    duplicate_contracts: list[str] = field(default_factory=list)
    invoices_posted_twice: list[str] = field(default_factory=list)
    erp_duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    unalerted: list[str] = field(default_factory=list)
    unbalanced: list[str] = field(default_factory=list)
    ar_mismatches: list[str] = field(default_factory=list)
    writeback_mismatches: list[str] = field(default_factory=list)
    open_exceptions: int = 0
    alerts: int = 0

    @property
    def duplicates(self) -> int:
        return (len(self.duplicate_customers) + len(self.duplicate_contracts)
                + len(self.invoices_posted_twice) + len(self.erp_duplicates))

    def problems(self) -> list[str]:
        out: list[str] = []
        for name in ("duplicate_customers", "duplicate_contracts", "invoices_posted_twice",
                     "erp_duplicates", "lost", "unalerted", "unbalanced", "ar_mismatches",
                     "writeback_mismatches"):
            out.extend(getattr(self, name))
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "duplicates": self.duplicates}


def run_audit(rt: Runtime, *, require_alerts: bool = True) -> AuditReport:
    """Audit the books of the systems `rt` is connected to."""
    report = AuditReport()
    opportunities = _salesforce_opportunities(rt)
    report.opportunities = len(opportunities)
    stripe_open = _check_stripe(rt, report)
    books: ErpBooks = rt.erp  # type: ignore[assignment]
    # The embedded ledger opens its own sessions; on SQLite a second writer would wait on ours,
    # so the ERP is read before our transaction starts.
    report.erp_duplicates += [f"ERP {table} has two records for external ID {ext}"
                              for table, ext in books.duplicate_external_ids()]
    report.unbalanced += [f"journal entry {n} does not balance"
                          for n in books.unbalanced_entries()]
    invoices = books.posted_invoices()
    numbers = Counter(i.number for i in invoices if i.number)
    report.invoices_posted_twice += [f"Stripe invoice {number} is posted {n} times in the ERP"
                                     for number, n in sorted(numbers.items()) if n > 1]
    erp_open = {i.external_id: i.open_minor for i in invoices if i.open_minor}
    posted = {i.external_id for i in invoices}
    with transaction(rt.sessions) as session:
        _check_erp(session, report, stripe_open, erp_open, posted)
        _check_lost(session, opportunities, report, require_alerts=require_alerts)
        _check_writeback(session, rt, opportunities, report)
    return report


def _salesforce_opportunities(rt: Runtime) -> dict[str, dict[str, Any]]:
    soql = ("SELECT Id, Name, AccountId, " + ", ".join(ID_FIELDS)
            + " FROM Opportunity WHERE IsWon = true ORDER BY Id")
    # Through the connector's call path: a refused session is a typed, readable failure, and an
    # ended one is renewed like any other call's.
    crm: Any = rt.crm
    return {r["Id"]: r for r in crm.query_all("audit.opportunities", soql)}


def _stripe_all(list_call: Any) -> list[dict[str, Any]]:
    return [obj.to_dict() for obj in list_call({"limit": 100}).auto_paging_iter()]


def _check_stripe(rt: Runtime, report: AuditReport) -> dict[str, int]:
    """Duplicate checks; returns each open Stripe invoice's remaining balance."""
    v1 = rt.billing.client.v1  # type: ignore[attr-defined]
    by_account: dict[str, list[str]] = defaultdict(list)
    for customer in _stripe_all(v1.customers.list):
        account = (customer.get("metadata") or {}).get("sf_account_id")
        if account:
            by_account[account].append(customer["id"])
    for account, ids in sorted(by_account.items()):
        if len(ids) > 1:
            report.duplicate_customers.append(
                f"Salesforce account {account} has {len(ids)} Stripe customers: {sorted(ids)}")
    by_key: dict[str, list[str]] = defaultdict(list)
    for sub in _stripe_all(v1.subscriptions.list):
        if key := (sub.get("metadata") or {}).get("closebot_key"):
            by_key[key].append(sub["id"])
    open_balances: dict[str, int] = {}
    for invoice in _stripe_all(v1.invoices.list):
        meta = invoice.get("metadata") or {}
        in_subscription = (invoice.get("parent") or {}).get("subscription_details")
        if meta.get("closebot_key") and not in_subscription:
            by_key[meta["closebot_key"]].append(invoice["id"])
        if invoice.get("status") == "open":
            open_balances[invoice["id"]] = int(invoice.get("amount_remaining") or 0)
    for key, ids in sorted(by_key.items()):
        if len(ids) > 1:
            report.duplicate_contracts.append(
                f"contract {key} was billed {len(ids)} times in Stripe: {sorted(ids)}")
    return open_balances


def _check_erp(
    session: Session, report: AuditReport, stripe_open: dict[str, int],
    erp_open: dict[str, int], posted: set[str],
) -> None:
    excused = _opportunities_with_open_exceptions(session)
    for invoice_id in sorted(set(stripe_open) | set(erp_open)):
        ours, theirs = erp_open.get(invoice_id, 0), stripe_open.get(invoice_id, 0)
        if ours == theirs:
            continue
        owner = _invoice_owner(session, invoice_id)
        if invoice_id not in posted and (owner is None or owner in excused):
            continue  # not ours, or its posting is an open exception already
        report.ar_mismatches.append(
            f"invoice {invoice_id}: ERP AR {_money(session, invoice_id, ours)} but Stripe says "
            f"{_money(session, invoice_id, theirs)} is open")


def _money(session: Session, invoice_id: str, minor: int) -> str:
    row = session.get(BillingInvoice, invoice_id)
    return format_money(minor, row.currency) if row else f"{minor} (minor units)"


def _invoice_owner(session: Session, invoice_id: str) -> str | None:
    row = session.get(BillingInvoice, invoice_id)
    return row.opportunity_id if row else None


def _opportunities_with_open_exceptions(session: Session) -> set[str]:
    return set(session.scalars(
        select(SyncException.opportunity_id).where(SyncException.status == "open")))


def _alerted(session: Session, exc: SyncException) -> bool:
    if exc.alert_ts:
        return True
    try:
        from storage.slack_tables import OutboxMessage
    except ImportError:
        return False
    # A queued alert counts: the outbox is durable and delivers it once Slack answers.
    return session.scalar(select(OutboxMessage.id).where(
        or_(OutboxMessage.ref == f"exception:{exc.id}",
            OutboxMessage.key == f"alert:exception:{exc.id}")).limit(1)) is not None


def _check_lost(session: Session, opportunities: dict[str, dict[str, Any]],
                report: AuditReport, *, require_alerts: bool) -> None:
    open_exc: dict[str, list[SyncException]] = defaultdict(list)
    for exc in session.scalars(select(SyncException).where(SyncException.status == "open")):
        open_exc[exc.opportunity_id or ""].append(exc)
        report.open_exceptions += 1
        if _alerted(session, exc):
            report.alerts += 1
        elif require_alerts:
            report.unalerted.append(f"exception {exc.id} ({exc.reason}) has no Slack alert")
    unfinished = set(session.scalars(select(WorkItem.opportunity_id).where(
        WorkItem.status.in_(("pending", "running")))))
    for opp, record in sorted(opportunities.items()):
        deal = session.get(Deal, opp)
        label = f"opportunity {opp} ({record.get('Name')})"
        if deal is None:
            report.lost.append(f"{label} is closed-won but closebot never took it in")
        elif open_exc.get(opp):
            continue
        elif deal.status in ("awaiting_approval", "rejected"):
            if not session.scalar(select(Approval.id).where(
                    Approval.opportunity_id == opp).limit(1)):
                report.lost.append(f"{label} waits for an approval that does not exist")
        elif deal.status != "synced" or opp in unfinished:
            report.lost.append(f"{label} is {deal.status} with unfinished work and no exception")


def _check_writeback(session: Session, rt: Runtime, opportunities: dict[str, dict[str, Any]],
                     report: AuditReport) -> None:
    failing = set(session.scalars(select(SyncException.opportunity_id).where(
        SyncException.status == "open", SyncException.kind == "writeback")))
    for opp, record in sorted(opportunities.items()):
        deal = session.get(Deal, opp)
        if deal is None or opp in failing:
            continue
        for sf_field, (scope_kind, system, kind) in ID_FIELDS.items():
            if scope_kind == "account":
                scope = links.account_scope(deal.account_id or "")
            else:
                scope = links.contract_scope(opp, deal.current_version or 0)
            expected = links.find(session, scope, system or rt.erp.name, kind)
            actual = record.get(sf_field) or None
            if expected != actual:
                report.writeback_mismatches.append(
                    f"opportunity {opp}: Salesforce {sf_field} is {actual!r}, closebot links "
                    f"{expected!r}")
