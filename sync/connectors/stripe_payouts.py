"""Stripe payouts, read only: `GET /v1/payouts` filtered by `arrival_date` (`gte` / `lte`, Unix
seconds) and paged with `starting_after`, 100 a page, as Stripe's API reference describes; and
`GET /v1/payouts/{id}` for one.

A payout's `trace_id` (`{status, value}`) is the bank's trace number once Stripe learns it; it and
the payout ID are what a bank line may name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from sync.connectors.stripe_reads import StripeReads
from sync.errors import PermanentError
from sync.ports_bank import Payout, PayoutBreakdown


class StripePayouts(StripeReads):
    def payouts(self, *, arriving_from: date, arriving_to: date) -> Iterator[list[Payout]]:
        window = {"arrival_date[gte]": _seconds(arriving_from, time.min),
                  "arrival_date[lte]": _seconds(arriving_to, time.max)}
        for page in self._pages("payouts.list", "/v1/payouts", window):
            yield [to_payout(p) for p in page]

    def payout(self, payout_id: str) -> Payout | None:
        try:
            found = self._call("payouts.retrieve", "get", f"/v1/payouts/{payout_id}", {})
        except PermanentError as error:
            if "No such payout" in str(error) or "resource_missing" in str(error.detail):
                return None
            raise
        return to_payout(found)


    def breakdown(self, payout: Payout) -> PayoutBreakdown:
        sums = dict.fromkeys(("gross", "refunds", "disputes", "other", "fees"), 0)
        count = 0
        for page in self._pages("balance_transactions.list", "/v1/balance_transactions",
                                {"payout": payout.id}):
            for txn in page:
                if txn.get("source") == payout.id or txn.get("type") == "payout":
                    continue  # the payout's own transaction: the money leaving, not carried
                count += 1
                sums[_kind(txn)] += int(txn.get("amount") or 0)
                sums["fees"] += int(txn.get("fee") or 0)
        return PayoutBreakdown(
            currency=payout.currency, gross_minor=sums["gross"], refunds_minor=sums["refunds"],
            fees_minor=sums["fees"], disputes_minor=sums["disputes"],
            other_minor=sums["other"], transactions=count)


# Stripe's reporting categories (balance transaction `reporting_category`) by breakdown line.
_KINDS = {"charge": "gross", "refund": "refunds", "refund_failure": "refunds",
          "dispute": "disputes", "dispute_reversal": "disputes"}


def _kind(txn: dict[str, Any]) -> str:
    category = str(txn.get("reporting_category") or txn.get("type") or "")
    return _KINDS.get(category, "gross" if category == "payment" else "other")


def to_payout(p: dict[str, Any]) -> Payout:
    trace = p.get("trace_id") or {}
    balance = p.get("balance_transaction")
    return Payout(
        id=str(p["id"]),
        amount_minor=int(p["amount"]),
        currency=str(p["currency"]).upper(),
        arrival_date=datetime.fromtimestamp(int(p["arrival_date"]), UTC).date(),
        status=str(p.get("status") or ""),
        trace_id=str(trace.get("value") or "") if isinstance(trace, dict) else "",
        descriptor=str(p.get("statement_descriptor") or ""),
        balance_transaction=str(balance["id"] if isinstance(balance, dict) else balance or ""),
    )


def _seconds(day: date, at: time) -> int:
    return int(datetime.combine(day, at, UTC).timestamp())
