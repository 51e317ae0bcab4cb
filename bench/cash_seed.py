"""The Stripe side of `bench.cash`, in a process of its own: a balance of card charges (2.9% +
$0.30), some refunded and some disputed, swept into a payout every `per_payout` charges and
paid, then served over HTTP until the benchmark is done. Built straight into the emulator's
state (the API would take an hour for 100,000 charges); the reads closebot makes go over HTTP.

Each payout's charges are one customer's, paying one invoice, so the ledger side needs one
invoice and one payment per payout.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any

from sandbox.stripe import StripeEmulator, balance, payouts
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State

REFUND_EVERY = 200  # 0.5% of charges are refunded in part
DISPUTE_EVERY = 1000  # 0.1% are disputed (and lost): the 500th of each 1,000, never refunded
DISPUTE_FEE = 1500


def _charge(st: State, customer: str, invoice: str, amount: int, n: int,
            paid: list[str]) -> int:
    """One charge (and its refund or dispute); returns what it left in the balance, gross.
    Its payment intent joins `paid`: closebot saw it pay the invoice (`invoice_payment.paid`)."""
    pi = st.add(build("payment_intent", id=new_id("payment_intent"), amount=amount,
                      currency="usd", customer=customer, status="succeeded"))
    ch = st.add(build("charge", id=new_id("charge"), amount=amount, currency="usd",
                      customer=customer, payment_intent=pi["id"], status="succeeded"))
    fee = (amount * 29 + 500) // 1000 + 30
    balance.record(st, amount=amount, fee=fee, currency="usd", source=ch["id"], type="charge")
    paid.append(pi["id"])
    if n % REFUND_EVERY == REFUND_EVERY - 1 or n % DISPUTE_EVERY == DISPUTE_EVERY // 2 - 1:
        # Stripe's side of the payment, for a lookup of the refunded or disputed charge (only
        # those: the emulator scans its invoice payments per lookup).
        st.add(build("invoice_payment", id=new_id("invoice_payment"), invoice=invoice,
                     currency="usd", status="paid",
                     payment={"type": "payment_intent", "payment_intent": pi["id"]}))
    if n % REFUND_EVERY == REFUND_EVERY - 1:
        re = st.add(build("refund", id=new_id("refund"), amount=amount // 4, currency="usd",
                          charge=ch["id"], payment_intent=pi["id"], status="succeeded"))
        balance.record(st, amount=-re["amount"], currency="usd", source=re["id"], type="refund")
    elif n % DISPUTE_EVERY == DISPUTE_EVERY // 2 - 1:
        dp_id = new_id("dispute")
        txn = balance.record(st, amount=-amount, currency="usd", source=dp_id,
                             type="adjustment", category="dispute", fee=DISPUTE_FEE)
        st.add(build("dispute", id=dp_id, amount=amount, charge=ch["id"], currency="usd",
                     payment_intent=pi["id"], status="lost", balance_transactions=[txn]))
    return amount


def seed(st: State, charges: int, per_payout: int
         ) -> list[tuple[str, str, int, list[str]]]:
    """(customer, invoice, gross charged, the payment intents that paid it) per payout."""
    made = []
    for start in range(0, charges, per_payout):
        customer = new_id("customer")
        invoice = new_id("invoice")
        paid: list[str] = []
        gross = sum(_charge(st, customer, invoice, 10_000 + (n % 97) * 1_000, n, paid)
                    for n in range(start, min(start + per_payout, charges)))
        payouts.sweep_all(st)
        for po in st.all("payout"):
            payouts.arrive(st, po)
        made.append((customer, invoice, gross, paid))
    return made


def serve(conn: Connection, charges: int, per_payout: int) -> None:
    """Child process: seed, send (url, key, seeded), then serve until told to stop."""
    with StripeEmulator() as emulator:
        made = seed(emulator.state, charges, per_payout)
        info: dict[str, Any] = {"url": emulator.url, "api_key": emulator.api_key, "made": made,
                                "transactions": len(emulator.state.all("balance_transaction"))}
        conn.send(info)
        conn.recv()
