"""`closebot audit`: the books checked across every system after the fact, to the cent.

Reads Salesforce, Stripe and the ERP through their ports (`CrmBooks`, `Billing.books`,
`ErpBooks`) and closebot's own database, and reports each disagreement as a `Variance` with the
records on both sides and a reason a finance reader can act on:

- records: an account with two Stripe customers, a contract version billed twice, a Stripe
  invoice posted twice, two ERP records with one external ID, an unbalanced journal entry;
- lost deals: every closed-won opportunity is synced, awaiting approval, rejected by a person,
  or an open exception with a Slack alert;
- money, per deal and per invoice (`audit_money`, `audit_invoices`, `audit_billing`): booked =
  billed over the term = the ERP's sales orders; Stripe billed = ERP invoiced, net; ERP
  receivable = Stripe's amount remaining; Salesforce's balance and invoice status agree; billing
  stops at the contract's end; a deal marked synced reflects its latest version;
- the ERP's books per obligation (`audit_books`, embedded ledger); on NetSuite, each credit
  memo's contra revenue line against what the credit's invoice had earned (`audit_credits`);
  on NetSuite and Sage Intacct, each void's revenue reversal entry against the revenue the
  subledger's void reversed (`audit_reversals`);
- a deal billed and then reopened (no longer closed-won) without an open exception;
- write-back: the IDs on each Salesforce opportunity equal closebot's ID links;
- cash (`audit_cash`, when Stripe's balance is read): each paid payout nets Stripe Clearing to
  zero, and Clearing plus what is still to be booked equals Stripe's balance.
Amounts are compared within `tolerance_minor` (minor units, default 0). It is also the oracle of
the chaos and replica tests, and the nightly reconciliation (`sync.ops.reconcile`) runs it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage import links
from storage.db import transaction
from storage.tables import Approval, ContractVersion, Deal, SyncException, WorkItem
from sync.contracts.amendments import amended_value
from sync.engine.exceptions import RECONCILIATION
from sync.engine.intake_guards import billed_records, erp_label
from sync.engine.runtime import Runtime
from sync.model import Contract
from sync.ops.audit_billing import DealBilling, by_deal
from sync.ops.audit_books import check_ledger
from sync.ops.audit_cash import check_cash
from sync.ops.audit_credits import check_credit_memos
from sync.ops.audit_entities import (
    EntityTotals,
    add_entity_cash,
    billing_books,
    by_entity,
    check_entity_cash,
    entities_of,
)
from sync.ops.audit_invoices import ErpView, check_invoices
from sync.ops.audit_money import DealState, check_deal
from sync.ops.audit_reversals import check_reversals
from sync.ops.audit_variance import Found, Side, Variance, excuse
from sync.ports import BillingBooks, CrmBooks, CrmDealView, ErpBooks, SubledgerVoid

ID_FIELDS = {
    "stripe_customer": ("Stripe customer ID", "account", "stripe", "customer"),
    "stripe_subscription": ("Stripe subscription ID", "contract", "stripe", "subscription"),
    "erp_sales_order": ("ERP sales order ID", "contract", None, "sales_order"),
}
LEGACY = {
    "duplicate_customers": "duplicate_customer", "duplicate_contracts": "duplicate_billing",
    "invoices_posted_twice": "invoice_posted_twice", "erp_duplicates": "erp_duplicate",
    "lost": "lost_deal", "unalerted": "unalerted_exception", "unbalanced": "unbalanced_entry",
    "ar_mismatches": "receivable_mismatch", "writeback_mismatches": "writeback_mismatch",
}
DUPLICATE_KINDS = ("duplicate_customer", "duplicate_billing", "invoice_posted_twice",
                   "erp_duplicate")
NETSUITE_UNCHECKED = (
    "NetSuite: deferred and recognized revenue per obligation, the revenue schedules and the "
    "sides of the Deferred Revenue and Accounts Receivable accounts are not checked (NetSuite "
    "keeps its own revenue schedules and general ledger; closebot reads invoices, credit memos "
    "with their contra revenue lines, sales orders and its void reversal entries through SuiteQL "
    "only)",
)


@dataclass
class AuditReport:
    opportunities: int = 0
    open_exceptions: int = 0
    alerts: int = 0
    tolerance_minor: int = 0
    variances: list[Variance] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)
    # Per legal entity (when deals carry one): its figures and its count of variances.
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # When the CRM last changed each deal checked: the reconciliation leaves alone what intake
    # has not read yet.
    crm_modified: dict[str, datetime | None] = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> list[str]:
        # The first audit reported plain lists per check; they remain, read from the variances.
        if name in LEGACY:
            return [v.reason for v in self.failing if v.kind == LEGACY[name]]
        raise AttributeError(name)

    @property
    def failing(self) -> list[Variance]:
        return [v for v in self.variances if not v.excused_by]

    @property
    def duplicates(self) -> int:
        return sum(1 for v in self.failing if v.kind in DUPLICATE_KINDS)

    def problems(self) -> list[str]:
        return [v.line() for v in self.failing]

    @property
    def ok(self) -> bool:
        return not self.failing

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "opportunities": self.opportunities, "duplicates": self.duplicates,
            "open_exceptions": self.open_exceptions, "alerts": self.alerts,
            "tolerance_minor": self.tolerance_minor,
            "counts": dict(Counter(v.kind for v in self.failing)),
            "variances": [v.to_dict() for v in self.variances],
            "totals": self.totals, "not_checked": self.not_checked,
            **({"entities": self.entities} if self.entities else {}),
        }


Progress = Callable[[str, int], None]  # a phase done: its label and how many records it read


def run_audit(rt: Runtime, *, require_alerts: bool = True, tolerance_minor: int | None = None,
              progress: Progress | None = None) -> AuditReport:
    """Audit the books of the systems `rt` is connected to; `progress` hears of each phase."""
    step = progress or (lambda label, count: None)
    tolerance = (tolerance_minor if tolerance_minor is not None
                 else getattr(rt.config, "audit_tolerance_minor", 0))
    found = Found(tolerance)
    crm: CrmBooks = rt.crm  # type: ignore[assignment]
    deals = {view.opportunity_id: view for view in crm.won_deals()}
    step("Salesforce deals read", len(deals))
    billing: BillingBooks = billing_books(rt)
    step("Stripe invoices read", len(list(billing.invoices)))
    books: ErpBooks = rt.erp  # type: ignore[assignment]
    erp = _read_erp(found, books, erp_label(rt.erp.name))
    step("ERP invoices read", len(erp.invoices))
    followed = _subledger_voids(rt)
    erp.voided = {void.invoice for void in followed}
    _check_billing_records(found, billing)
    check_invoices(found, list(billing.invoices), list(billing.credits), erp)
    if any(void.revenue_minor for void in followed):
        check_reversals(found, followed, books.revenue_reversals(), erp.name,
                        {inv.id: inv.opportunity_id for inv in billing.invoices})
    report = AuditReport(opportunities=len(deals), tolerance_minor=tolerance,
                         crm_modified={opp: v.modified_at for opp, v in deals.items()})
    ledger = books.ledger_books()
    if ledger is not None:
        check_ledger(found, ledger, list(erp.invoices.values()),
                     [*erp.credits.values(), *erp.refunds], erp.name,
                     {opp: view.name for opp, view in deals.items()})
    else:
        report.not_checked += NETSUITE_UNCHECKED
    cash_figures: dict[str, dict[str, int]] = {}
    if rt.cash is not None:
        step("Stripe payouts and balance checked against Clearing",
             check_cash(found, rt.cash, rt.sessions, erp.name, cash_figures))
    entity_figures = {name: check_entity_cash(found, name, cash, rt.sessions, erp.name, step)
                      for name, cash in sorted(rt.entity_cash.items())}
    with transaction(rt.sessions) as session:
        states = _states(session)
        open_kinds = _open_kinds(session)
        _check_lost(session, deals, found, report, require_alerts=require_alerts,
                    now=rt.now())
        _check_reopened(session, deals, found, rt.erp.name)
        if ledger is None:
            check_credit_memos(found, session, erp)
        _check_writeback(session, rt, deals, found)
        entities = entities_of(session)
    totals = EntityTotals()
    billed = by_deal(billing)
    for opp, view in sorted(deals.items()):
        if opp in states:
            totals.deal_of(entities.get(opp))
            check_deal(found, totals, view, states[opp], billed.get(opp, DealBilling()), erp)
    totals.current = None  # cash is the company's: Stripe's balance is not split by deal
    for currency, figures in cash_figures.items():
        totals.add(currency, **figures)
    add_entity_cash(totals, entity_figures)
    report.totals = totals.to_dict()
    report.variances = excuse(found.variances, open_kinds)
    report.entities = by_entity(totals, report.variances, entities)
    step("deals compared across the systems", len(deals))
    return report


def _read_erp(found: Found, books: ErpBooks, name: str) -> ErpView:
    # The embedded ledger opens its own sessions; on SQLite a second writer would wait on ours,
    # so the ERP is read before our transaction starts.
    for table, ext in books.duplicate_external_ids():
        found.add("erp_duplicate", f"ERP {table} has two records for external ID {ext}",
                  sides=(Side(name, table, record_id=ext),))
    for number in books.unbalanced_entries():
        found.add("unbalanced_entry", f"journal entry {number} does not balance",
                  sides=(Side(name, "journal entry", record_id=number),))
    invoices = books.posted_invoices()
    numbers = Counter(i.number for i in invoices if i.number)
    for number, n in sorted(numbers.items()):
        if n > 1:
            found.add("invoice_posted_twice", f"Stripe invoice {number} is posted {n} times in "
                      "the ERP", sides=(Side(name, "invoices", record_id=number),))
    return ErpView.build(name, invoices, books.posted_credits(), books.sales_orders())


def _subledger_voids(rt: Runtime) -> list[SubledgerVoid]:
    """The voids closebot's revenue subledger followed (NetSuite, Sage Intacct); read before our
    transaction, as the ERP is."""
    subledger = getattr(rt.erp, "subledger", None)
    return [] if subledger is None else list(subledger.voids())


def _check_billing_records(found: Found, billing: BillingBooks) -> None:
    by_account: dict[str, list[str]] = defaultdict(list)
    for customer, account in billing.customers:
        if account:
            by_account[account].append(customer)
    for account, ids in sorted(by_account.items()):
        if len(ids) > 1:
            found.add("duplicate_customer", f"Salesforce account {account} has {len(ids)} "
                      f"Stripe customers: {sorted(ids)}",
                      sides=(Side("Stripe", "customers", record_id=", ".join(ids)),))
    by_key: dict[str, list[str]] = defaultdict(list)
    for sub in billing.subscriptions:
        if sub.key:
            by_key[sub.key].append(sub.id)
    for inv in billing.invoices:
        if inv.key and not inv.subscription_id:
            by_key[inv.key].append(inv.id)
    for key, ids in sorted(by_key.items()):
        if len(ids) > 1:
            found.add("duplicate_billing", f"contract {key} was billed {len(ids)} times in "
                      f"Stripe: {sorted(ids)}",
                      sides=(Side("Stripe", "billings", record_id=", ".join(sorted(ids))),))


def _states(session: Session) -> dict[str, DealState]:
    totals: dict[str, dict[int, int]] = defaultdict(dict)
    ends: dict[str, dict[int, date]] = defaultdict(dict)
    chains: dict[str, list[tuple[Contract, date | None]]] = defaultdict(list)
    for opp, version, total, body, amends, effective in session.execute(select(
            ContractVersion.opportunity_id, ContractVersion.version, ContractVersion.total_minor,
            ContractVersion.body, ContractVersion.amends_version, ContractVersion.effective_on
    ).order_by(ContractVersion.opportunity_id, ContractVersion.version)):
        totals[opp][version] = int(total)
        end = ((body or {}).get("billing") or {}).get("end")
        if end:
            ends[opp][version] = date.fromisoformat(str(end))
        if not chains[opp] or (amends is not None and effective is not None):
            chains[opp].append((Contract.model_validate(body), effective))
    return {d.opportunity_id: _state(d, totals[d.opportunity_id], ends[d.opportunity_id],
                                     chains[d.opportunity_id])
            for d in session.scalars(select(Deal))}


def _state(deal: Deal, totals: dict[int, int], ends: dict[int, date],
           chain: list[tuple[Contract, date | None]]) -> DealState:
    if len(chain) < 2:
        return DealState(deal.status, deal.current_version, totals, ends)
    return DealState(deal.status, deal.current_version, totals, ends,
                     amended=amended_value(chain), amended_version=chain[-1][0].version)


def _open_kinds(session: Session) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for exc_id, opp, kind in session.execute(select(
            SyncException.id, SyncException.opportunity_id, SyncException.kind)
            .where(SyncException.status == "open").order_by(SyncException.id)):
        found[opp or ""].append((exc_id, kind))
    return found


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


def _check_lost(session: Session, deals: dict[str, CrmDealView], found: Found,
                report: AuditReport, *, require_alerts: bool, now: datetime) -> None:
    open_exc: dict[str, list[SyncException]] = defaultdict(list)
    for exc in session.scalars(select(SyncException).where(SyncException.status == "open")):
        report.open_exceptions += 1
        if exc.kind != RECONCILIATION:  # the books disagreeing does not explain a lost deal
            open_exc[exc.opportunity_id or ""].append(exc)
        if _alerted(session, exc):
            report.alerts += 1
        elif require_alerts:
            found.add("unalerted_exception",
                      f"exception {exc.id} ({exc.reason}) has no Slack alert",
                      opp=exc.opportunity_id,
                      sides=(Side("closebot", "exception", record_id=str(exc.id)),))
    # Work armed for a later day and never tried (a cancellation's credit) is not unfinished.
    unfinished = set(session.scalars(select(WorkItem.opportunity_id).where(
        WorkItem.status.in_(("pending", "running")),
        ~((WorkItem.attempts == 0) & (WorkItem.next_attempt_at > now)))))
    for opp, view in sorted(deals.items()):
        deal = session.get(Deal, opp)
        label = f"opportunity {opp} ({view.name})"
        problem = None
        if deal is None:
            problem = f"{label} is closed-won but closebot never took it in"
        elif open_exc.get(opp):
            continue
        elif deal.status in ("awaiting_approval", "rejected"):
            if not session.scalar(select(Approval.id).where(
                    Approval.opportunity_id == opp).limit(1)):
                problem = f"{label} waits for an approval that does not exist"
        elif deal.status != "synced" or opp in unfinished:
            problem = f"{label} is {deal.status} with unfinished work and no exception"
        if problem:
            found.add("lost_deal", problem, opp=opp,
                      sides=(Side("Salesforce", "opportunity", record_id=opp),))


def _check_reopened(session: Session, deals: dict[str, CrmDealView], found: Found,
                    erp: str) -> None:
    """A deal billed and then moved back to an open stage is read by no check above."""
    for opp, name in session.execute(select(Deal.opportunity_id, Deal.name)):
        if opp in deals or not (billed := billed_records(session, opp)):
            continue
        found.add("reopened_deal", f"opportunity {opp} ({name}) is no longer closed-won in "
                  f"Salesforce but was {billed.describe(erp_label(erp))}", opp=opp,
                  sides=(Side("Salesforce", "opportunity (not won)", record_id=opp),
                         Side("Stripe", "billing", record_id=", ".join(billed.stripe))))


def _check_writeback(session: Session, rt: Runtime, deals: dict[str, CrmDealView],
                     found: Found) -> None:
    failing = set(session.scalars(select(SyncException.opportunity_id).where(
        SyncException.status == "open", SyncException.kind == "writeback")))
    for opp, view in sorted(deals.items()):
        deal = session.get(Deal, opp)
        if deal is None or opp in failing:
            continue
        for role, (label, scope_kind, system, kind) in ID_FIELDS.items():
            expected = _linked(session, deal, scope_kind, system or rt.erp.name, kind)
            actual = view.ids.get(role)
            if expected != actual:
                found.add("writeback_mismatch",
                          f"opportunity {opp}: Salesforce {label} is {actual!r}, closebot links "
                          f"{expected!r}", opp=opp,
                          sides=(Side("Salesforce", label, record_id=actual),
                                 Side("closebot", f"ID link: {label}", record_id=expected)))


def _linked(session: Session, deal: Deal, scope_kind: str, system: str, kind: str) -> str | None:
    """What the write-back last sent: for a contract, the newest version that has the record
    (a changed contract waiting for approval still shows the one billed before it)."""
    if scope_kind == "account":
        return links.find(session, links.account_scope(deal.account_id or ""), system, kind)
    for version in range(deal.current_version or 0, 0, -1):
        if found := links.find(session, links.contract_scope(deal.opportunity_id, version),
                               system, kind):
            return found
    return None
