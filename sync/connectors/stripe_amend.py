"""A contract amendment on Stripe: the existing subscription's items moved to the new version's
prices on the effective date, the prorated difference for the rest of the current period billed
at once, and brand-new one-time fees invoiced.

The subscription is updated in place, item by item (matched on the contract line each item
bills), with `proration_behavior=always_invoice` and `proration_date` at midnight UTC of the
effective day, so Stripe adds an "Unused time" credit at the old price and a "Remaining time"
charge at the new one and finalizes them on one `subscription_update` invoice. Items whose price
and quantity stay the same are left alone: they prorate nothing. When nothing costs more, nothing
is prorated (`none`) and no invoice is made: a decrease's credit for the current period is a
credit note on the invoice that billed it (sync/contracts/amendments.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from sync.model import Contract, Invoice, Obligation
from sync.money import prorate
from sync.ports import BillingResult

if TYPE_CHECKING:
    from sync.connectors.stripe_billing import StripeBilling

PRORATION_INVOICE = "subscription_update"


def item_changes(stripe: StripeBilling, contract: Contract, current: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """Stripe `items` for the update: changed items by id, removed ones deleted, new ones added."""
    by_line = {(item.get("metadata") or {}).get("sf_line_id"): item for item in current}
    wanted = {o.line_id: params for o, params in zip(
        contract.recurring, stripe._items(contract), strict=True)}
    changes: list[dict[str, Any]] = []
    for line_id, params in wanted.items():
        item = by_line.pop(line_id, None)
        if item is None:
            changes.append(params)
        elif (item["price"].get("unit_amount"), item.get("quantity")) != (
                params["price_data"]["unit_amount"], params["quantity"]):
            changes.append({"id": item["id"], **params})
    changes += [{"id": item["id"], "deleted": True} for item in by_line.values()]
    return changes


def _net_proration(current: list[dict[str, Any]], changes: list[dict[str, Any]], at: int
                   ) -> int:
    """What Stripe's prorations for `changes` would add up to: positive for an increase."""
    by_id = {item["id"]: item for item in current}
    start = min(item["current_period_start"] for item in current)
    end = min(item["current_period_end"] for item in current)
    net = 0
    for change in changes:
        old = by_id.get(change.get("id", ""))
        if old is not None:
            net -= prorate(old["price"]["unit_amount"] * old["quantity"], end - at, end - start)
        if not change.get("deleted"):
            whole = change["price_data"]["unit_amount"] * change["quantity"]
            net += prorate(whole, end - at, end - start)
    return net


def amend(stripe: StripeBilling, contract: Contract, *, subscription_id: str,
          new_fees: Sequence[Obligation], key: str, effective: date) -> BillingResult:
    path = f"/v1/subscriptions/{subscription_id}"
    sub = stripe._call("subscriptions.retrieve", "get", path, {})
    metadata = sub.get("metadata") or {}
    moved = metadata.get("closebot_key") == key  # by an earlier attempt
    if moved and metadata.get("effective_on"):
        effective = date.fromisoformat(metadata["effective_on"])  # the first attempt's day
    if not moved:
        changes = item_changes(stripe, contract, sub["items"]["data"])
        start = min(item["current_period_start"] for item in sub["items"]["data"])
        # Stripe prorates from the current period's start at the earliest.
        effective = max(effective, datetime.fromtimestamp(start, UTC).date())
        at = max(start, int(datetime.combine(effective, time(), UTC).timestamp()))
        # A decrease is credited on the invoice that billed the period (a credit note, by the
        # credit step), not on a negative invoice that only adds to the customer's balance.
        increase = bool(changes) and _net_proration(sub["items"]["data"], changes, at) > 0
        params: dict[str, Any] = {
            "items": changes,
            "proration_behavior": "always_invoice" if increase else "none",
            "days_until_due": contract.billing.payment_terms_days,
            "metadata": {**stripe._metadata(contract, key),
                         "effective_on": effective.isoformat()},
        }
        if not sub.get("schedule"):
            # A subscription a schedule manages ends with its last phase; Stripe refuses a
            # cancel_at on it.
            params["cancel_at"] = int(stripe._end(contract).timestamp())
        if increase:
            params["proration_date"] = at
        sub = stripe._call("subscriptions.update", "post", path, params, key=key)
    invoices = _proration_invoice(stripe, sub, contract)
    if new_fees:
        fees = contract.model_copy(update={"obligations": tuple(new_fees)})
        invoices += stripe._create_one_time_invoice(
            fees, customer_id=str(sub["customer"]), key=f"{key}:fees", lookup=moved).invoices
    return BillingResult(subscription_id=str(sub["id"]), invoices=invoices, effective_on=effective)


def _proration_invoice(stripe: StripeBilling, sub: dict[str, Any], contract: Contract
                       ) -> list[Invoice]:
    """The update's own invoice (also when a retry finds the subscription already moved)."""
    latest = sub.get("latest_invoice")
    if not latest:
        return []
    found = stripe._call("invoices.retrieve", "get", f"/v1/invoices/{latest}", {})
    if found.get("billing_reason") != PRORATION_INVOICE:
        return []
    return [stripe._tag(stripe._read(found), contract)]
