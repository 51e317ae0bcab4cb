"""A contract's term as Stripe billing periods: the subscription ends with the contract.

- A term of whole periods (12 months billed quarterly): the cadence's price, `cancel_at` the end
  of the contract's last day.
- A term shorter than one period (10 months billed annually): one price whose interval is the
  term (`month` x 10), so its only period is exactly the contract's dates at the term's price,
  whether it starts today or later. Stripe prorates a `cancel_at` inside a period by the second;
  an interval that fits the term leaves nothing to prorate.
- Whole periods and a shorter rest (14 months billed annually): the subscription starts at the
  cadence's price, and a subscription schedule made from it (`from_subscription`, then its
  phases updated, as Stripe's docs describe) adds a last phase from the last whole period's end
  to the contract's end, priced for that rest (`month` x 2 at 2/14 of the term's price), and
  ends there (`end_behavior=cancel`). Stripe bills that phase whole at its start.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sync.connectors.stripe_reads import StripeReads
from sync.connectors.stripe_transport import SYSTEM
from sync.dates import add_months
from sync.errors import PermanentError
from sync.model import Contract, Obligation
from sync.ports import BillingResult

INTERVALS = {"monthly": ("month", 1), "quarterly": ("month", 3), "annual": ("year", 1)}


def whole_periods(contract: Contract) -> int:
    return contract.billing.term_months // contract.billing.cadence.months


def rest_months(contract: Contract) -> int:
    """Months of the term after its last whole period (0 when the term is whole periods)."""
    return contract.billing.term_months % contract.billing.cadence.months


def last_period_unit(obligation: Obligation, contract: Contract) -> int:
    """The shorter last period's price per unit: what the whole periods leave of the line."""
    whole = whole_periods(contract)
    return obligation.amount_minor // obligation.quantity - whole * obligation.unit_minor


def term_end(contract: Contract) -> datetime:
    """The end of the contract's last service day: nothing bills after it."""
    return datetime.combine(contract.billing.end + timedelta(days=1), time(), UTC)


class StripeLifecycle(StripeReads):
    """Prices, products and the phases that make Stripe's periods follow the contract."""

    def _items(self, contract: Contract, *, last: bool = False) -> list[dict[str, Any]]:
        """Subscription items at the cadence's price, or those of the shorter last period
        (`last`, or a term shorter than one period)."""
        short = last or whole_periods(contract) == 0
        interval, count = ("month", rest_months(contract)) if short else INTERVALS[
            contract.billing.cadence.value]
        return [
            {
                "price_data": {
                    "currency": contract.currency.lower(),
                    "product": self._product(o.product),
                    "unit_amount": last_period_unit(o, contract) if last else o.unit_minor,
                    "recurring": {"interval": interval, "interval_count": count},
                },
                "quantity": o.quantity,
                "metadata": {"sf_line_id": o.line_id},
            }
            for o in contract.recurring
        ]

    @staticmethod
    def _end(contract: Contract) -> datetime:
        return term_end(contract)

    def _metadata(self, contract: Contract, key: str) -> dict[str, str]:
        return {
            "sf_opportunity_id": contract.opportunity_id,
            "sf_account_id": contract.customer.crm_account_id,
            "contract_version": str(contract.version),
            "closebot_key": key,
        }

    def _end_with_term(self, subscription_id: str, contract: Contract, key: str) -> None:
        """Give a term of whole periods and a shorter rest its last phase. Each call looks at
        what an earlier attempt left (the schedule, its phases) before it creates."""
        if not (whole_periods(contract) and rest_months(contract)):
            return
        sub = self._call("subscriptions.retrieve", "get",
                         f"/v1/subscriptions/{subscription_id}", {})
        schedule = self._schedule_of(sub, key)
        if len(schedule["phases"]) > 1:
            return
        start = datetime.combine(contract.billing.start, time(), UTC)
        self._set_phases(schedule, self._term_phases(contract, start, key), key)

    def renew_contract(self, contract: Contract, *, subscription_id: str,
                       key: str) -> BillingResult:
        """The renewed deal's subscription continues with this contract's phases from the day
        after the renewed term ends: the phases still to come are kept up to then. The phases
        carry this contract's metadata, so Stripe tags the renewal's invoices with it."""
        sub = self._call("subscriptions.retrieve", "get",
                         f"/v1/subscriptions/{subscription_id}", {})
        start = datetime.combine(contract.billing.start, time(), UTC)
        if sub["status"] in _ENDED or sub.get("cancel_at") != int(start.timestamp()):
            # Either renewed before (its phases moved the end) or not renewable: look only.
            if isinstance(sub.get("schedule"), str) and any(
                    (ph.get("metadata") or {}).get("closebot_key") == key
                    for ph in self._schedule_of(sub, key)["phases"]):
                return BillingResult(subscription_id=str(sub["id"]), invoices=[])
            raise PermanentError(
                f"{contract.name} renews a deal whose Stripe subscription {sub['id']} "
                f"{_ending(sub, sub.get('cancel_at'))}, but the renewal starts "
                f"{contract.billing.start}: a renewal continues a running subscription from the "
                "day after the renewed deal's Contract End Date. Fix the Contract Start Date "
                "or the Renewal Of field.", system=SYSTEM)
        schedule = self._schedule_of(sub, key)
        current = (schedule.get("current_phase") or {}).get("start_date") or 0
        kept = [_kept(ph) for ph in schedule["phases"]
                if current <= ph["start_date"] < int(start.timestamp())]
        kept[-1]["end_date"] = int(start.timestamp())
        self._set_phases(schedule, kept + self._term_phases(contract, start, key), key)
        return BillingResult(subscription_id=str(sub["id"]), invoices=[])

    def cancel_contract(self, contract: Contract, *, subscription_id: str,
                        key: str) -> BillingResult:
        """End the subscription at the end of the last day of service, without Stripe's
        proration: for an invoice already billed, that would be a credit waiting for a next
        invoice that never comes. The unused part is credited on the invoice that billed it
        instead (`sync/engine/lifecycle.py`). A schedule is released first: Stripe lets no one
        change a scheduled subscription's cancellation directly."""
        assert contract.canceled_on is not None
        ends = datetime.combine(contract.canceled_on + timedelta(days=1), time(), UTC)
        path = f"/v1/subscriptions/{subscription_id}"
        sub = self._call("subscriptions.retrieve", "get", path, {})
        done = (sub.get("metadata") or {}).get("closebot_key") == key
        if sub["status"] not in _ENDED and not done:
            if isinstance(sub.get("schedule"), str):
                self._call("subscription_schedules.release", "post",
                           f"/v1/subscription_schedules/{sub['schedule']}/release", {},
                           key=f"{key}:release")
            self._call("subscriptions.update", "post", path, {
                "cancel_at": int(ends.timestamp()), "proration_behavior": "none",
                "metadata": self._metadata(contract, key)}, key=key)
        return BillingResult(subscription_id=str(sub["id"]), invoices=[],
                             effective_on=ends.date())

    def _schedule_of(self, sub: dict[str, Any], key: str) -> dict[str, Any]:
        """The subscription's schedule, made from it (one phase: its current period) if none."""
        schedule = sub.get("schedule")
        if isinstance(schedule, str):
            return self._call("subscription_schedules.retrieve", "get",
                              f"/v1/subscription_schedules/{schedule}", {})
        if isinstance(schedule, dict):
            return schedule
        return self._call("subscription_schedules.create", "post", "/v1/subscription_schedules",
                          {"from_subscription": sub["id"]}, key=f"{key}:schedule")

    def _term_phases(self, contract: Contract, start: datetime, key: str
                     ) -> list[dict[str, Any]]:
        """One term's phases from `start`: its whole periods at the cadence's price, then the
        shorter rest (or only the rest, for a term shorter than one period)."""
        metadata = self._metadata(contract, key)
        whole = add_months(start, whole_periods(contract) * contract.billing.cadence.months)
        spans = [(self._items(contract), whole if rest_months(contract) else term_end(contract))]
        if whole_periods(contract) and rest_months(contract):
            spans.append((self._items(contract, last=True), term_end(contract)))
        phases: list[dict[str, Any]] = [
            {"items": items, "end_date": int(end.timestamp()), "proration_behavior": "none",
             "metadata": metadata} for items, end in spans]
        return phases

    def _set_phases(self, schedule: dict[str, Any], phases: list[dict[str, Any]],
                    key: str) -> None:
        phases[0].setdefault("start_date", schedule["phases"][0]["start_date"])
        self._call("subscription_schedules.update", "post",
                   f"/v1/subscription_schedules/{schedule['id']}",
                   {"end_behavior": "cancel", "phases": phases}, key=f"{key}:phases")

    def _product(self, name: str) -> str:
        product_id = "cb_" + hashlib.sha256(name.encode()).hexdigest()[:24]
        if product_id in self._products:
            return product_id
        try:
            self._call("products.retrieve", "get", f"/v1/products/{product_id}", {})
        except PermanentError:
            self._call(
                "products.create", "post", "/v1/products",
                {"id": product_id, "name": name[:250]},
                key=f"closebot:product:{product_id}",
            )
        self._products[product_id] = name
        return product_id


_ENDED = ("canceled", "incomplete_expired")


def _kept(phase: dict[str, Any]) -> dict[str, Any]:
    """A phase read back from Stripe, as the update that keeps it sends it."""
    return {
        "items": [{"price": _id(i["price"]), "quantity": i["quantity"],
                   "metadata": i.get("metadata") or {}} for i in phase["items"]],
        "start_date": phase["start_date"], "end_date": phase["end_date"],
        "proration_behavior": phase.get("proration_behavior") or "none",
        "metadata": phase.get("metadata") or {},
    }


def _ending(sub: dict[str, Any], ends: int | None) -> str:
    if sub["status"] in _ENDED:
        return "has ended"
    if ends is None:
        return "has no end date"
    return f"ends {datetime.fromtimestamp(ends, UTC).date()}"


def _id(value: Any) -> str:
    return str(value["id"] if isinstance(value, dict) else value)
