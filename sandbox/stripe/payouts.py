"""Automatic payouts: a daily sweep of the available balance to the account's bank account.

At every midnight UTC on the emulator clock (Stripe's `daily` payout schedule) each currency with
a positive available balance is paid out in full: one payout (`po_…`, `automatic: true`) whose own
balance transaction (`payout`, negative) carries every available transaction not yet paid out.
Refunds waiting for funds are settled first, as Stripe draws them from the balance before paying
out. The payout is `in_transit` with an ACH `trace_id` (the reference the bank statement line
carries) and arrives the next day (`arrival_date`): it becomes `paid` (`payout.paid`), then its
reconciliation completes (`payout.reconciliation_completed`). A failed payout (`payout.failed`,
forced through `POST /sandbox/payouts/{id}/fail`) returns its amount to the balance with a
`payout_failure` transaction, which the next payout carries. On the `manual` schedule
(`StripeEmulator(payout_schedule="manual")`) nothing is swept and `POST /v1/payouts` pays out
(`automatic: false`, and only its own transaction under `?payout=`, as Stripe lists those only
for automatic payouts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.stripe import balance, refunds
from sandbox.stripe.clock import DAY
from sandbox.stripe.listing import in_range
from sandbox.stripe.objects import build, new_id
from sandbox.stripe.state import State
from sandbox.stripe.wire import invalid, require

BANK_ACCOUNT = "ba_1CloseBotSandboxBank00"
ROUTING_PREFIX = "11000000"  # the first eight digits of the test routing number 110000000
FAILURES = {
    "account_closed": "The bank account has been closed.",
    "no_account": "The bank account details on file are probably incorrect. No bank account "
                  "could be located with those details.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
}
_KEY = "__payouts__"
CREATE_SPEC = {"amount": "int", "currency": "str", "description": "str", "metadata": "meta",
               "statement_descriptor": "str", "method": "str", "destination": "str"}


def _schedule(st: State) -> dict[str, Any]:
    sched = st.internal.get(_KEY)
    if sched is None:
        sched = st.internal[_KEY] = {"next": (st.now // DAY + 1) * DAY, "sequence": 0,
                                     "in_flight": {}, "interval": "daily"}
    return sched


def set_interval(st: State, interval: str) -> None:
    """`daily` (the default) or `manual`: no sweeps, payouts made with `POST /v1/payouts`."""
    if interval not in ("daily", "manual"):
        raise ValueError("the sandbox payout schedule is daily or manual")
    _schedule(st)["interval"] = interval


def tasks(st: State) -> list[tuple[int, Callable[[], None]]]:
    """The next daily sweep and the arrival of every payout still in transit."""
    sched = _schedule(st)
    due: list[tuple[int, Callable[[], None]]] = []
    if sched["interval"] == "daily":
        due.append((sched["next"], lambda: sweep_all(st)))
    for po in sched["in_flight"].values():
        due.append((po["arrival_date"], lambda p=po: arrive(st, p)))
    return due


def sweep_all(st: State) -> None:
    sched = _schedule(st)
    sched["next"] = (st.now // DAY + 1) * DAY
    refunds.settle_waiting(st)
    for currency in balance.currencies_to_sweep(st):
        amount = balance.available(st, currency)
        if amount > 0:
            _create(st, currency, amount, sched)


def create_payout(st: State, p: dict[str, Any]) -> dict[str, Any]:
    """`POST /v1/payouts`: a manual payout, allowed as on Stripe only on a manual schedule."""
    require(p, "amount", "currency")
    sched = _schedule(st)
    if sched["interval"] != "manual":
        raise invalid("You cannot create manual payouts while automatic payouts are enabled; "
                      "set the payout schedule to manual first.")
    currency = p["currency"].lower()
    if p["amount"] <= 0 or p["amount"] > balance.available(st, currency):
        raise invalid("You have insufficient funds in your Stripe account for this transfer.",
                      code="balance_insufficient", param="amount")
    po = _create(st, currency, p["amount"], sched, automatic=False)
    po.update(description=p.get("description"), metadata=p.get("metadata") or {},
              statement_descriptor=p.get("statement_descriptor"),
              method=p.get("method") or "standard")
    return po


def _create(st: State, currency: str, amount: int, sched: dict[str, Any], *,
            automatic: bool = True) -> dict[str, Any]:
    po_id = new_id("payout")
    if automatic:
        balance.sweep(st, currency, po_id)
    txn = balance.record(st, amount=-amount, currency=currency, source=po_id, type="payout",
                         description="STRIPE PAYOUT", payout=po_id)
    sched["sequence"] += 1
    po = st.add(build(
        "payout", id=po_id, created=st.now, amount=amount, currency=currency,
        arrival_date=(st.now // DAY + 1) * DAY, automatic=automatic,
        balance_transaction=txn["id"],
        destination=BANK_ACCOUNT, description="STRIPE PAYOUT", metadata={}, method="standard",
        reconciliation_status="in_progress", source_type="card", status="in_transit",
        statement_descriptor=None, type="bank_account", failure_balance_transaction=None,
        failure_code=None, failure_message=None, original_payout=None, reversed_by=None,
        trace_id={"status": "supported",
                  "value": f"{ROUTING_PREFIX}{sched['sequence']:07d}"},
    ))
    sched["in_flight"][po_id] = po
    st.emit("payout.created", po)
    return po


def arrive(st: State, po: dict[str, Any]) -> None:
    _schedule(st)["in_flight"].pop(po["id"], None)
    if po["status"] != "in_transit":
        return
    po["status"] = "paid"
    st.emit("payout.paid", po)
    po["reconciliation_status"] = "completed"
    st.emit("payout.reconciliation_completed", po)


def fail(st: State, po_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """Sandbox only: the bank returns the payout (in transit, or up to days after `paid`)."""
    po = st.get("payout", po_id)
    code = p.get("failure_code") or "account_closed"
    if code not in FAILURES:
        raise invalid(f"failure_code must be one of {', '.join(sorted(FAILURES))}.",
                      param="failure_code")
    if po["status"] not in ("in_transit", "paid"):
        raise invalid(f"Payout {po_id} cannot fail: its status is {po['status']}.")
    _schedule(st)["in_flight"].pop(po_id, None)
    txn = balance.record(st, amount=po["amount"], currency=po["currency"], source=po_id,
                         type="payout_failure", category="payout_reversal",
                         description="STRIPE PAYOUT FAILURE")
    po.update(status="failed", failure_code=code, failure_message=FAILURES[code],
              failure_balance_transaction=txn["id"])
    st.emit("payout.failed", po)
    return po


def list_payouts(st: State, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Payouts newest first, filtered on `status`, `arrival_date` and `destination`."""
    rows = st.all("payout")
    if p.get("status"):
        rows = [r for r in rows if r["status"] == p["status"]]
    if p.get("destination"):
        rows = [r for r in rows if r["destination"] == p["destination"]]
    if p.get("arrival_date"):
        rows = [r for r in rows if in_range(r["arrival_date"], p["arrival_date"])]
    return rows
