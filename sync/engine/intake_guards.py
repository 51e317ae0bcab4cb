"""Changes to a deal that has already been billed, which intake must stop rather than book.

Two changes in Salesforce cannot be carried onto what Stripe and the ERP already hold:
- **a currency switch** (`CurrencyIsoCode` changed after billing): Stripe bills a subscription
  in one currency for its whole life, and the ERP's invoices are in the currency they were
  issued in. Amending would bill or post the new amounts in the old currency, so the new
  version is not taken in; a person chooses between keeping the old currency (set it back on
  the opportunity) and cancelling the billing to re-book the deal in the new one.
- **a deal reopened** (`StageName` moved back to an open stage, so `IsWon` is false): what was
  billed and posted stays where it is; a person must void or credit it, or win the deal again.
  One reopened before it was billed (taken in, or waiting for an approval) has its billing
  held until it is won again. (Intake reads a deal that is no longer won once closebot has
  written its status back to it, so a deal reopened in the moments between intake and its
  bill step is billed, then raised as reopened after billing.)
Each becomes one open exception per deal and kind (refreshed, never repeated, while the deal
stays so), which the alert sweep posts to the alerts channel, and which resolves itself once the
opportunity is back as it was billed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import links, queue
from storage.tables import Approval, BillingInvoice, ContractVersion, Deal, WorkItem
from storage.timeutil import utcnow
from sync.contracts.fields import label
from sync.engine import exceptions
from sync.model import Contract
from sync.money import format_money
from sync.ports import DealRecord

CURRENCY_CHANGE, REOPENED = "currency_change", "reopened"
# The ERP's name, asked only when a message needs it (intake itself calls no external system).
ErpName = Callable[[], str]


@dataclass
class Billed:
    """What Stripe and the ERP already hold for a deal, from closebot's links and mirror."""

    currency: str | None = None
    stripe: list[str] = field(default_factory=list)  # subscription and invoice IDs
    erp: list[str] = field(default_factory=list)  # the ERP's sales orders
    invoices: list[BillingInvoice] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.stripe or self.invoices)

    def describe(self, erp_name: str) -> str:
        parts = []
        if self.stripe:
            parts.append("billed in Stripe (" + ", ".join(self.stripe) + ")")
        for inv in self.invoices:
            posted = (f"posted to {erp_name} as {inv.erp_invoice_id}" if inv.erp_invoice_id
                      else f"not posted to {erp_name} yet")
            parts.append(f"invoice {inv.number or inv.billing_id} for "
                         f"{format_money(inv.total_minor, inv.currency)} ({inv.status}, {posted})")
        if self.erp:
            parts.append(f"{erp_name} sales order " + ", ".join(self.erp))
        return "; ".join(parts)


def billed_records(session: Session, opportunity_id: str) -> Billed:
    found = Billed()
    versions: list[int] = []
    for ln in links.for_opportunity(session, opportunity_id):
        if not ln.scope.startswith("contract:"):
            continue
        if ln.system == "stripe" and ln.kind in ("subscription", "invoice"):
            found.stripe.append(ln.external_id)
            versions.append(int(ln.scope.rsplit(":v", 1)[1]))
        elif ln.kind == "sales_order":  # the ERP's, whichever it is
            found.erp.append(ln.external_id)
    found.invoices = list(session.scalars(
        select(BillingInvoice).where(BillingInvoice.opportunity_id == opportunity_id)
        .order_by(BillingInvoice.issued_on, BillingInvoice.billing_id)))
    if versions:
        found.currency = session.scalar(select(ContractVersion.currency).where(
            ContractVersion.opportunity_id == opportunity_id,
            ContractVersion.version == max(versions)))
    elif found.invoices:
        found.currency = found.invoices[0].currency
    return found


def is_won(deal: DealRecord) -> bool:
    # A CRM that does not say (no IsWon field) only sends won deals.
    return deal.fields.get("IsWon", True) is not False


def reopened(session: Session, row: Deal, deal: DealRecord, *, erp: ErpName) -> str:
    """A deal closebot took in is no longer won: raise an exception if anything was billed."""
    billed = billed_records(session, row.opportunity_id)
    stage = deal.fields.get("StageName") or "an open stage"
    if not billed:
        held = _set_bills(session, row.opportunity_id, queue.PENDING, queue.HELD)
        if not held and not session.scalar(select(WorkItem.id).where(
                WorkItem.opportunity_id == row.opportunity_id, WorkItem.step == "bill",
                WorkItem.status == queue.HELD).limit(1)):
            return "not_won"
        reason = (f"Deal {row.name} was moved back to {stage} in Salesforce before it was "
                  f"billed: closebot holds its billing until {label('StageName')} is Closed Won "
                  "again.")
        return _hold(session, row, REOPENED, reason, ["StageName"])
    reason = (f"Deal {row.name} was moved back to {stage} in Salesforce after it was billed: "
              f"{billed.describe(erp_label(erp()))}. Nothing was cancelled: void or credit what "
              f"was billed if the deal is off, or set {label('StageName')} back to Closed Won.")
    return _hold(session, row, REOPENED, reason, ["StageName"])


def currency_switch(session: Session, row: Deal, contract: Contract, *, erp: ErpName
                    ) -> str | None:
    """The new version's currency differs from the one the deal was billed in: hold it."""
    billed = billed_records(session, row.opportunity_id)
    if not billed or not billed.currency or billed.currency == contract.currency:
        exceptions.resolve(session, opportunity_id=row.opportunity_id, kinds=[CURRENCY_CHANGE],
                           resolution="the deal's currency is the one it was billed in")
        return None
    new, old = contract.currency, billed.currency
    reason = (f"Deal {row.name} changed {label('CurrencyIsoCode')} from {old} to {new} after it "
              f"was billed: {billed.describe(erp_label(erp()))}. closebot billed and posted "
              f"nothing in {new}. To keep billing in {old}, set {label('CurrencyIsoCode')} back "
              f"to {old}. To bill in {new}, cancel the {old} billing (void or credit its "
              f"invoices and cancel the subscription) and book the deal again in {new}.")
    return _hold(session, row, CURRENCY_CHANGE, reason, ["CurrencyIsoCode"])


def settled_again(session: Session, row: Deal) -> None:
    """The deal is won again: its reopened exception is over."""
    if exceptions.resolve(session, opportunity_id=row.opportunity_id, kinds=[REOPENED],
                          resolution="the deal is Closed Won again"):
        # Billing held while it was reopened resumes (not one still waiting for an approval).
        waiting = select(Approval.contract_version).where(
            Approval.opportunity_id == row.opportunity_id, Approval.status == "pending")
        _set_bills(session, row.opportunity_id, queue.HELD, queue.PENDING,
                   WorkItem.contract_version.not_in(waiting))


def status_when_clear(session: Session, row: Deal) -> str:
    """Where a deal stands once its last intake exception is resolved (no approval waiting)."""
    unfinished = session.scalar(select(WorkItem.id).where(
        WorkItem.opportunity_id == row.opportunity_id, WorkItem.contract_version > 0,
        WorkItem.status.in_((queue.PENDING, queue.RUNNING, queue.EXCEPTION))).limit(1))
    billed = billed_records(session, row.opportunity_id)
    return "synced" if billed and unfinished is None else "pending"


def _set_bills(session: Session, opportunity_id: str, old: str, new: str, *where: object
               ) -> int:
    result = session.execute(
        update(WorkItem).where(WorkItem.opportunity_id == opportunity_id,
                               WorkItem.step == "bill", WorkItem.contract_version > 0,
                               WorkItem.status == old, *where)
        .values(status=new, next_attempt_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _hold(session: Session, row: Deal, kind: str, reason: str, fields: list[str]) -> str:
    row.status, row.message = "exception", reason
    exceptions.raise_exception(session, opportunity_id=row.opportunity_id, kind=kind,
                               system="salesforce", reason=reason, fields=fields)
    queue.arm(session, opportunity_id=row.opportunity_id, version=0, step="writeback")
    return kind


def erp_label(erp: str) -> str:
    """How an ERP is named to a reader: "the ledger", "NetSuite", "Sage Intacct"."""
    return {"ledger": "the ledger", "netsuite": "NetSuite", "intacct": "Sage Intacct"}.get(erp, erp)
