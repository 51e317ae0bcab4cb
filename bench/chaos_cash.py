"""Cash in the chaos run: customers pay, are refunded and dispute while the workers are faulted
and killed, and Stripe pays the balance out.

What happens outside closebot goes straight to the Stripe emulator, not through the fault
proxy: customers pay open invoices by card, finance refunds some in full and some in part in
Stripe's dashboard, card holders dispute some and the network decides (won or lost), and the
emulator's clock moves on so Stripe's daily payouts sweep the balance and arrive. The faulted,
killed workers read the payments from Stripe's events and book the payouts (the `cash` job).

The verdict is the cash audit's (`sync.cash.audit`, part of `closebot audit`): every paid
payout's balance transactions tied to entries and Clearing for it netting to zero, and Stripe's
balance equal to Clearing plus what is still to be booked, per currency. A planted fault
(`plant="double_post"`: one refund's entry posted again under another external ID) must show
as a variance.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.tables import BillingInvoice
from sync.cash.postings import for_transaction
from sync.engine.runtime import Runtime
from sync.ops.audit import AuditReport
from sync.ports_cash import REFUND

DAY = 86_400
CASH_KINDS = frozenset({"payout_not_settled", "clearing_vs_stripe_balance"})
# What happens to the n-th paid invoice, in turn: most are just paid; the rest are refunded in
# full or in part, or disputed and then won or lost.
FATES = ("paid", "full_refund", "paid", "partial_refund", "dispute_won", "paid",
         "dispute_lost")


class Stripe:
    """Stripe's API and the emulator's stand-ins for the outside world, as customers, finance
    and card networks act on them (no faults: those are closebot's side)."""

    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(base_url=base, auth=(key, ""), timeout=30)
        # The emulator's clock takes the key only as a bearer token.
        self.clock = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                                  timeout=30)

    def post(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(path, data=data or {})
        response.raise_for_status()
        return dict(response.json())

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.get(path, params=params or {})
        response.raise_for_status()
        return dict(response.json())

    def pay(self, invoice_id: str, card: str) -> str:
        """Pay the invoice by card; returns its charge."""
        customer = self.get(f"/v1/invoices/{invoice_id}")["customer"]
        pm = self.post(f"/v1/payment_methods/{card}/attach", {"customer": customer})
        self.post(f"/v1/invoices/{invoice_id}/pay", {"payment_method": pm["id"]})
        (payment,) = self.get("/v1/invoice_payments", {"invoice": invoice_id})["data"]
        pi = self.get(f"/v1/payment_intents/{payment['payment']['payment_intent']}")
        return str(pi["latest_charge"])

    def advance(self, days: int) -> None:
        now = self.clock.get("/sandbox/clock").raise_for_status()
        self.clock.post("/sandbox/clock", data={
            "frozen_time": str(int(now.json()["frozen_time"]) + days * DAY)}).raise_for_status()


def open_invoices(sessions: sessionmaker[Session], count: int, skip: set[str]) -> list[str]:
    with transaction(sessions) as session:
        return list(session.scalars(
            select(BillingInvoice.billing_id).where(
                BillingInvoice.status == "open", BillingInvoice.billing_id.not_in(skip or {""}),
                BillingInvoice.total_minor >= 1_000)
            .order_by(BillingInvoice.billing_id).limit(count)))


def act(stripe: Stripe, invoices: list[str]) -> Counter[str]:
    """Pay each invoice and give it its fate; then two days on (card funds available, a
    payout made) and two more (the payout arrives), so payouts are paid while workers run."""
    done: Counter[str] = Counter()
    decide: list[tuple[str, str]] = []
    for n, invoice in enumerate(invoices):
        fate = FATES[n % len(FATES)]
        card = "pm_card_createDispute" if fate.startswith("dispute") else "pm_card_visa"
        charge = stripe.pay(invoice, card)
        done["paid"] += 1
        if fate == "full_refund":
            stripe.post("/v1/refunds", {"charge": charge})
        elif fate == "partial_refund":
            amount = stripe.get(f"/v1/charges/{charge}")["amount"]
            stripe.post("/v1/refunds", {"charge": charge, "amount": str(max(1, amount // 3))})
        elif fate.startswith("dispute"):
            (dispute,) = stripe.get("/v1/disputes", {"charge": charge})["data"]
            decide.append((dispute["id"], fate.removeprefix("dispute_")))
        if fate != "paid":
            done[fate] += 1
    stripe.advance(days=2)
    for dispute_id, outcome in decide:
        stripe.post(f"/sandbox/disputes/{dispute_id}/decide", {"outcome": outcome})
    stripe.advance(days=2)
    payouts = stripe.get("/v1/payouts", {"limit": 100})["data"]
    done["payouts_paid"] = sum(1 for p in payouts if p["status"] == "paid")
    return done


def plant_double_post(rt: Runtime) -> bool:
    """Post one refund's entry again under another external ID, as a bug might: the audit must
    report Clearing off by the refund."""
    assert rt.cash is not None
    for txn in rt.cash.reads.transactions(created_gte=date(2000, 1, 1)):
        if txn.category == REFUND and (posting := for_transaction(txn)) is not None:
            rt.cash.erp.post_cash(dataclasses.replace(
                posting, external_id=f"{posting.external_id}:again", credit_invoice=None))
            return True
    return False


def cash_verdict(report: AuditReport, acted: Counter[str]) -> dict[str, Any]:
    """The cash audit's findings by kind, and per currency Stripe's balance against Clearing
    plus what is still to be booked."""
    found = Counter(v.kind for v in report.failing if v.kind in CASH_KINDS)
    balances = {cur: {k: figures[k] for k in ("stripe_balance", "clearing", "clearing_to_book")
                      if k in figures}
                for cur, figures in sorted(report.totals.items()) if "stripe_balance" in figures}
    tied = all(b.get("stripe_balance") == b.get("clearing", 0) + b.get("clearing_to_book", 0)
               for b in balances.values())
    return {**dict(acted), "variances": dict(found), "balances": balances,
            "ok": not found and tied and (acted["payouts_paid"] > 0 or not acted["paid"])}
