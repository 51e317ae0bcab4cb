"""The cash hops of a deal's chain of custody: each invoice's payment → the payout that carried
it → the bank line that payout was matched to; refunds and disputes likewise. Read from what
the cash run stored (`cash_facts`) and the bank matches (`bank_lines`), never from Stripe.

A Stripe charge doesn't name its invoice (docs/cash.md), so an invoice's charge is the charge
of the invoice's Stripe customer for exactly what was paid on it, the earliest not already an
earlier invoice's; a payment made in several charges shows no charge hop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.bank_tables import BankLineRow
from storage.ops_tables import CashFact
from storage.tables import BillingInvoice
from sync.money import format_money

Hop = dict[str, Any]


def cash_hops(session: Session, invoices: Sequence[BillingInvoice]) -> dict[str, list[Hop]]:
    """Per invoice (billing id), its cash hops in order."""
    customers = {i.billing_customer_id for i in invoices}
    billing_ids = [i.billing_id for i in invoices]
    charges = list(session.scalars(
        select(CashFact).where(CashFact.kind == "payment", CashFact.customer_id.in_(customers))
        .order_by(CashFact.occurred_on, CashFact.object_id))) if customers else []
    others = list(session.scalars(
        select(CashFact).where(CashFact.invoice_id.in_(billing_ids))
        .order_by(CashFact.occurred_on, CashFact.object_id))) if billing_ids else []
    payout_ids = {f.payout_id for f in [*charges, *others] if f.payout_id}
    payouts = {f.object_id: f for f in session.scalars(
        select(CashFact).where(CashFact.kind == "payout", CashFact.object_id.in_(payout_ids)))}
    banks = {b.payout_id: b for b in session.scalars(
        select(BankLineRow).where(BankLineRow.payout_id.in_(payout_ids)))} if payout_ids else {}
    claimed: set[str] = set()
    hops: dict[str, list[Hop]] = {}
    for invoice in sorted(invoices, key=lambda i: (i.paid_at is None, i.paid_at, i.billing_id)):
        found: list[Hop] = []
        charge = next((c for c in charges if c.object_id not in claimed
                       and c.customer_id == invoice.billing_customer_id
                       and c.currency == invoice.currency
                       and c.amount_minor == invoice.amount_paid_minor > 0), None)
        if charge is not None:
            claimed.add(charge.object_id)
            found += _carried("Stripe charge", charge, payouts, banks)
        for fact in (f for f in others if f.invoice_id == invoice.billing_id):
            if fact.kind == "refund":
                found += _carried("Stripe refund", fact, payouts, banks)
            elif fact.kind == "dispute":
                found.append({"hop": "Stripe dispute", "id": fact.object_id, "state": fact.status,
                              "detail": _money(fact)})
        hops[invoice.billing_id] = found
    return hops


def _carried(label: str, fact: CashFact, payouts: dict[str, CashFact],
             banks: dict[str | None, BankLineRow]) -> list[Hop]:
    """The fact, the payout that carried it, and that payout's bank line."""
    state = "failed" if fact.status == "failed" else "ok"
    found = [{"hop": label, "id": fact.object_id, "state": state, "detail": _money(fact)}]
    payout = payouts.get(fact.payout_id or "")
    if payout is None:
        found.append({"hop": "Stripe payout", "id": fact.payout_id, "state": "not yet",
                      "detail": "not paid out and booked yet"})
        return found
    found.append({"hop": "Stripe payout", "id": payout.object_id, "state": "ok",
                  "detail": f"{format_money(payout.amount_minor, payout.currency)} arriving "
                            f"{payout.occurred_on.isoformat()}"})
    bank = banks.get(payout.object_id)
    if bank is None:
        found.append({"hop": "Bank line", "id": None, "state": "not yet",
                      "detail": "no bank statement line matched yet"})
    else:
        found.append({"hop": "Bank line", "id": bank.key, "state": "ok",
                      "detail": f"{format_money(bank.amount_minor, bank.currency)} on "
                                f"{bank.posted_on.isoformat()} · {bank.account} · "
                                f"{bank.reference}"})
    return found


def _money(fact: CashFact) -> str:
    money = format_money(abs(fact.amount_minor), fact.currency)
    return f"{money} on {fact.occurred_on.isoformat()}"
