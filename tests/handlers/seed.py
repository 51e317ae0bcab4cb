"""Rows for handler tests, written straight into closebot's tables."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.tables import Approval, BillingInvoice, Deal, SyncException, WorkItem
from storage.timeutil import utcnow


def invoice(sessions: sessionmaker[Session], number: str, customer: str, *, total: int = 150_000,
            status: str = "open", due_days: int = 30, opp: str = "006A", paid: int = 0) -> str:
    billing_id = f"in_{number.replace('-', '').lower()}"
    with transaction(sessions) as s:
        s.add(BillingInvoice(
            billing_id=billing_id, number=number, opportunity_id=opp, contract_version=1,
            account_id="001A", customer_name=customer, customer_name_key=customer.lower(),
            billing_customer_id="cus_1", currency="USD", total_minor=total,
            amount_paid_minor=paid, amount_remaining_minor=total - paid, status=status,
            issued_on=date.today() - timedelta(days=40), erp_invoice_id=f"INV-{number}",
            due_on=date.today() + timedelta(days=due_days)))
    return billing_id


def deal(sessions: sessionmaker[Session], opp: str = "006A", *, name: str = "Acme Renewal",
         status: str = "awaiting_approval", owner: str = "owner@example.com") -> None:
    with transaction(sessions) as s:
        s.add(Deal(opportunity_id=opp, name=name, account_id="001A", account_name="Acme Corp",
                   owner_email=owner, amount_minor=12_000_000, currency="USD", status=status,
                   current_version=1, source_hash="x", modstamp=utcnow(), raw={}))


def approval(sessions: sessionmaker[Session], opp: str = "006A") -> int:
    with transaction(sessions) as s:
        ap = Approval(kind="discount", subject=opp, opportunity_id=opp, contract_version=1,
                      requested_by="owner@example.com", amount_minor=12_000_000, currency="USD",
                      reasons=[{"kind": "discount", "what": "Platform: 35% off list",
                                "original": "USD 150,000.00", "proposed": "USD 97,500.00"}],
                      payload={"customer": "Acme Corp", "deal": "Acme Renewal"})
        s.add(ap)
        s.flush()
        s.add(WorkItem(opportunity_id=opp, contract_version=1, step="bill", status="held"))
        return ap.id


def exception(sessions: sessionmaker[Session], opp: str = "006A", *, kind: str = "bill",
              error: str = "Stripe is unreachable") -> int:
    with transaction(sessions) as s:
        item = WorkItem(opportunity_id=opp, contract_version=1, step=kind, status="exception",
                        attempts=3, last_error=error)
        s.add(item)
        s.flush()
        exc = SyncException(opportunity_id=opp, kind=kind, system="stripe", attempts=3,
                            reason=f"Deal {opp} could not be billed in Stripe: {error}",
                            work_item_id=item.id, fields=[])
        s.add(exc)
        s.flush()
        return exc.id
