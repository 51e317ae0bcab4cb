"""Endpoints of the cash side: balance transactions, refunds, payouts, disputes, bank debits.

`GET /v1/balance_transactions` takes Stripe's filters: `payout` (the transactions an automatic
payout carried, its own included), `type`, `source`, `currency` and `created`. Paths under
`/sandbox/` are the emulator's stand-ins for what happens outside the API on Stripe (a card holder
disputing, the network deciding, a bank returning a payout, a refund or a debit); they take the
secret key like the API does.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe import ach, balance, disputes, invoice_payments, invoices, payouts, refunds
from sandbox.stripe.listing import paginate
from sandbox.stripe.routes import LIST, Route
from sandbox.stripe.state import State

BT_SPEC = {**LIST, "payout": "str", "type": "str", "source": "str", "currency": "str"}
PAYOUT_SPEC = {**LIST, "status": "str", "arrival_date": "range", "destination": "str"}
DISPUTE_SPEC = {**LIST, "charge": "str", "payment_intent": "str"}
REFUND_LIST_SPEC = {**LIST, "charge": "str", "payment_intent": "str"}


def _list_balance_transactions(st: State, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("payout"):
        st.get("payout", p["payout"], param="payout")
        rows = st.newest_first(balance.of_payout(st, p["payout"]))
    else:
        rows = st.all("balance_transaction")
    for key in ("type", "source", "currency"):
        if p.get(key):
            rows = [r for r in rows if r[key] == p[key]]
    return paginate(rows, p, "/v1/balance_transactions")


def _rows(kind: str, url: str, *keys: str) -> Any:
    def handler(st: State, p: dict[str, Any]) -> dict[str, Any]:
        rows = st.all(kind)
        for key in keys:
            if p.get(key):
                rows = [r for r in rows if r[key] == p[key]]
        return paginate(rows, p, url)
    return handler


def _get(kind: str) -> Any:
    return lambda st, p, id: st.get(kind, id)


def _after_debit(st: State) -> Any:
    return lambda pi: invoices.after_bank_debit(st, pi)


CASH_ROUTES: list[Route] = [
    Route("GET", "/v1/balance_transactions", BT_SPEC, _list_balance_transactions),
    Route("GET", "/v1/balance_transactions/:id", {}, _get("balance_transaction")),
    Route("POST", "/v1/refunds", refunds.REFUND_SPEC, refunds.create_refund),
    Route("GET", "/v1/refunds", REFUND_LIST_SPEC,
          _rows("refund", "/v1/refunds", "charge", "payment_intent")),
    Route("GET", "/v1/refunds/:id", {}, _get("refund")),
    Route("GET", "/v1/payouts", PAYOUT_SPEC,
          lambda st, p: paginate(payouts.list_payouts(st, p), p, "/v1/payouts")),
    Route("GET", "/v1/payouts/:id", {}, _get("payout")),
    Route("POST", "/v1/payouts", payouts.CREATE_SPEC, payouts.create_payout),
    Route("GET", "/v1/disputes", DISPUTE_SPEC,
          _rows("dispute", "/v1/disputes", "charge", "payment_intent")),
    Route("GET", "/v1/disputes/:id", {}, _get("dispute")),
    Route("POST", "/v1/disputes/:id", disputes.UPDATE_SPEC,
          lambda st, p, id: disputes.update_dispute(st, id, p)),
    Route("POST", "/v1/disputes/:id/close", {},
          lambda st, p, id: disputes.close_dispute(st, id, p)),
    Route("POST", "/v1/payment_methods", ach.PM_SPEC, ach.create_payment_method),
    Route("POST", "/v1/invoices/:id/attach_payment", invoice_payments.ATTACH_SPEC,
          lambda st, p, id: invoice_payments.attach_payment(st, id, p)),
    Route("POST", "/sandbox/invoices/:id/overpay", invoice_payments.OVERPAY_SPEC,
          lambda st, p, id: invoice_payments.overpay(st, id, p)),
    Route("POST", "/sandbox/charges/:id/dispute", disputes.OPEN_SPEC,
          lambda st, p, id: disputes.open_dispute(st, id, p)),
    Route("POST", "/sandbox/disputes/:id/decide", disputes.DECIDE_SPEC,
          lambda st, p, id: disputes.decide(st, id, p)),
    Route("POST", "/sandbox/payouts/:id/fail", {"failure_code": "str"},
          lambda st, p, id: payouts.fail(st, id, p)),
    Route("POST", "/sandbox/refunds/:id/fail", {"failure_reason": "str"},
          lambda st, p, id: refunds.fail(st, id, p)),
    Route("POST", "/sandbox/payment_intents/:id/fail", ach.FAIL_SPEC,
          lambda st, p, id: ach.fail(st, id, p, _after_debit(st))),
]


def listen(st: State) -> None:
    """Hook the cash side's reactions to other parts of the emulator into the state."""
    st.listeners.setdefault("payment_intent.succeeded", []).append(
        invoice_payments.on_payment_succeeded)


def clock_tasks(st: State) -> list[tuple[int, Any]]:
    """What the cash side has scheduled on the emulator clock, as (when, action)."""
    due: list[tuple[int, Any]] = []
    release = balance.next_release(st)
    if release is not None:
        when, make_available = release
        due.append((when, lambda: (make_available(), refunds.settle_waiting(st))))
    due += payouts.tasks(st)
    due += refunds.tasks(st)
    due += ach.tasks(st, _after_debit(st))
    return due
