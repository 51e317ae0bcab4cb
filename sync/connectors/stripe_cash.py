"""`StripeCash`: the `CashReads` port over Stripe's balance: payouts, the balance transactions
each payout settled (`GET /v1/balance_transactions?payout=po_…`, 100 a page, the source of each
expanded in the same call), disputes and the balance.

Stripe names what moved the balance in `reporting_category` (its many `type`s grouped as its
reports group them). Since API version 2025-03-31 a charge no longer names its invoice; the
invoice a payment intent paid is found through `GET /v1/invoice_payments`, one call per payment
intent (remembered in a bounded cache), unless closebot saw the payment pay its invoice
(`invoice_payment.paid`, kept in `payment_invoices`, passed in as `known`). That is paid only
where the entry needs the invoice (a refund's credit memo, a dispute, a failed bank debit): a
charge names its customer instead (`sync/cash/customers.py`), so a payout costs its
transaction pages and nothing per charge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from sync.connectors.stripe_get import StripeGet
from sync.connectors.stripe_objects import day
from sync.connectors.stripe_reads import PAGE, StripeReads
from sync.ports_cash import BalanceTxn, CashDispute, CashPayout

# Stripe's reporting categories → closebot's; anything else is booked by a person.
CATEGORIES = {
    "charge": "charge", "refund": "refund", "refund_failure": "refund_failure",
    "dispute": "dispute", "dispute_reversal": "dispute_reversal", "payout": "payout",
    "payout_reversal": "payout_reversal", "fee": "fee", "charge_failure": "payment_failure",
}
CACHE = 50_000


class StripeCash(StripeReads):
    def __init__(self, *, known: Callable[[str], str | None] | None = None,
                 **kwargs: Any) -> None:
        """`known`: the invoice closebot saw a payment intent pay, None for one it didn't."""
        super().__init__(**kwargs)
        self._known = known
        self._invoice_of: dict[str, str | None] = {}
        self._get = StripeGet(api_key=kwargs["api_key"], api_base=kwargs.get("api_base"),
                              timeout=float(kwargs.get("timeout", 30.0)),
                              stripe_account=kwargs.get("stripe_account"))

    def _call(self, kind: str, method: str, path: str, params: dict[str, Any], *,
              key: str | None = None) -> dict[str, Any]:
        """Reads go through `StripeGet` (a page decoded once); anything else through the SDK."""
        if method != "get":
            return super()._call(kind, method, path, params, key=key)
        if self._before_call is not None:
            self._before_call()
        self.calls[kind] += 1
        return self._get.get(path, params)

    def payouts(self, *, arrival_gte: date | None = None) -> Iterator[CashPayout]:
        params: dict[str, Any] = {}
        if arrival_gte is not None:
            params["arrival_date"] = {"gte": _stamp(arrival_gte)}
        for page in self._pages("payouts.list", "/v1/payouts", params):
            for po in page:
                yield CashPayout(
                    id=str(po["id"]), amount_minor=int(po["amount"]),
                    currency=str(po["currency"]).upper(), arrival_on=_day(po["arrival_date"]),
                    status=str(po["status"]),
                )

    def payout_transactions(self, payout_id: str) -> Iterator[BalanceTxn]:
        params = {"payout": payout_id, "expand": ["data.source"]}
        for page in self._pages("balance_transactions.list", "/v1/balance_transactions", params):
            for txn in page:
                yield self._txn(txn, payout_id)

    def transactions(self, *, created_gte: date) -> Iterator[BalanceTxn]:
        params = {"created": {"gte": _stamp(created_gte)}, "expand": ["data.source"]}
        for page in self._pages("balance_transactions.list", "/v1/balance_transactions", params):
            for txn in page:
                yield self._txn(txn, None)

    def dispute(self, dispute_id: str) -> CashDispute:
        return self._dispute(self._call("disputes.retrieve", "get", f"/v1/disputes/{dispute_id}",
                                        {}))

    def disputes(self, *, created_gte: date | None = None) -> Iterator[CashDispute]:
        params = {"created": {"gte": _stamp(created_gte)}} if created_gte else {}
        for page in self._pages("disputes.list", "/v1/disputes", params):
            yield from (self._dispute(dp) for dp in page)

    def _dispute(self, dp: dict[str, Any]) -> CashDispute:
        withdrawals = tuple(self._txn({**t, "source": dp}, None)
                            for t in sorted(dp.get("balance_transactions") or [],
                                            key=lambda t: int(t.get("created") or 0)))
        closed = dp["status"] in {"won", "lost", "warning_closed"}
        return CashDispute(
            id=str(dp["id"]), charge_id=_id(dp.get("charge")) or "",
            invoice_id=self._invoice(_id(dp.get("payment_intent"))),
            amount_minor=int(dp["amount"]), currency=str(dp["currency"]).upper(),
            status=str(dp["status"]),
            closed_on=max((w.created_on for w in withdrawals), default=None) if closed else None,
            withdrawals=withdrawals,
        )

    def balance(self) -> dict[str, int]:
        found = self._call("balance.retrieve", "get", "/v1/balance", {})
        totals: dict[str, int] = {}
        for status in ("available", "pending"):
            for row in found.get(status) or []:
                currency = str(row["currency"]).upper()
                totals[currency] = totals.get(currency, 0) + int(row["amount"])
        return totals

    def _txn(self, txn: dict[str, Any], payout_id: str | None) -> BalanceTxn:
        source = txn.get("source")
        category = CATEGORIES.get(str(txn.get("reporting_category")),
                                  str(txn.get("reporting_category") or txn.get("type")))
        invoice = customer = None
        if category == "charge" and isinstance(source, dict):
            customer = _id(source.get("customer"))
        elif category in {"refund", "refund_failure", "dispute", "dispute_reversal",
                          "payment_failure"} and isinstance(source, dict):
            invoice = self._invoice(_id(source.get("payment_intent")))
        return BalanceTxn(
            id=str(txn["id"]), category=category, amount_minor=int(txn["amount"]),
            fee_minor=int(txn.get("fee") or 0), net_minor=int(txn["net"]),
            currency=str(txn["currency"]).upper(), created_on=_day(txn["created"]),
            source_id=_id(source), invoice_id=invoice, payout_id=payout_id, customer_id=customer,
        )

    def _invoice(self, payment_intent: str | None) -> str | None:
        """The invoice a payment intent paid, or None for a payment no invoice asked for."""
        if payment_intent is None:
            return None
        if self._known is not None and (invoice := self._known(payment_intent)) is not None:
            return invoice
        if payment_intent not in self._invoice_of:
            if len(self._invoice_of) >= CACHE:
                self._invoice_of.clear()
            found = self._call("invoice_payments.list", "get", "/v1/invoice_payments", {
                "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                "limit": 1,
            })
            rows = found.get("data") or []
            self._invoice_of[payment_intent] = _id(rows[0].get("invoice")) if rows else None
        return self._invoice_of[payment_intent]


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value["id"])
    return str(value) if value else None


def _day(stamp: int) -> date:
    found = day(stamp)
    assert found is not None
    return found


def _stamp(on: date) -> int:
    return int(datetime.combine(on, time(), tzinfo=UTC).timestamp())


__all__ = ["PAGE", "StripeCash"]
