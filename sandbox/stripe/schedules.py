"""Subscription schedules: a subscription's future phases, each with its own prices and dates.

The emulator makes a schedule the way Stripe's docs show for an existing subscription: create it
`from_subscription` (one phase, the current period, `end_behavior=release`; no other parameter
may be set then), then update its `phases` (the current phase keeps its `start_date`; each phase
runs to its `end_date`). When a phase starts, the subscription's items take its prices; a price
with another interval resets the billing cycle anchor to the phase start, so the phase's first
period is billed whole at its start. `end_behavior=cancel` ends the subscription at the last
phase's end (shown as its `cancel_at`); `release` leaves it running on its last prices.
"""

from __future__ import annotations

from typing import Any

from sandbox.stripe.catalog import RECURRING_PRICE_DATA_SPEC
from sandbox.stripe.items import resolve_price
from sandbox.stripe.objects import new_id, plan_from_price
from sandbox.stripe.state import State, changed, snapshot
from sandbox.stripe.wire import invalid, merge_metadata, missing

PHASE_ITEM_SPEC = {"price": "str", "price_data": RECURRING_PRICE_DATA_SPEC, "quantity": "int",
                   "metadata": "meta", "tax_rates": ["str"]}
PHASE_SPEC = {"items": [PHASE_ITEM_SPEC], "start_date": "ts", "end_date": "ts",
              "proration_behavior": "str", "metadata": "meta", "description": "str"}
CREATE_SPEC = {"from_subscription": "str", "customer": "str", "start_date": "ts",
               "end_behavior": "str", "phases": [PHASE_SPEC], "metadata": "meta"}
UPDATE_SPEC = {"phases": [PHASE_SPEC], "end_behavior": "str", "metadata": "meta",
               "proration_behavior": "str"}
END_BEHAVIORS = ("cancel", "release")


def _phase(items: list[dict[str, Any]], start: int, end: int, *, metadata: dict[str, str],
           proration: str) -> dict[str, Any]:
    return {
        "add_invoice_items": [], "application_fee_percent": None, "automatic_tax": None,
        "billing_cycle_anchor": None, "collection_method": None, "currency": None,
        "default_payment_method": None, "default_tax_rates": [], "description": None,
        "discounts": [], "end_date": end, "invoice_settings": None, "items": items,
        "metadata": metadata, "on_behalf_of": None, "proration_behavior": proration,
        "start_date": start, "transfer_data": None, "trial_end": None,
    }


def create_schedule(st: State, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("from_subscription"):
        raise invalid("This emulator makes schedules from an existing subscription only: set "
                      "from_subscription.", param="from_subscription")
    if set(p) - {"from_subscription", "metadata", "expand"}:
        raise invalid("You cannot set other parameters when `from_subscription` is set.",
                      param="from_subscription")
    sub = st.get("subscription", p["from_subscription"], param="from_subscription")
    if sub["schedule"]:
        raise invalid("You cannot migrate a subscription that is already attached to a "
                      f"schedule: `{sub['schedule']}`.", param="from_subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid("You cannot migrate a canceled subscription.", param="from_subscription")
    items = sub["items"]["data"]
    start, end = items[0]["current_period_start"], items[0]["current_period_end"]
    phase = _phase([{"price": i["price"]["id"], "quantity": i["quantity"],
                     "metadata": dict(i["metadata"]), "tax_rates": [], "discounts": []}
                    for i in items], start, end, metadata={}, proration="create_prorations")
    sched = st.add({
        "id": new_id("subscription_schedule"), "object": "subscription_schedule",
        "application": None, "billing_mode": {"type": "classic"}, "canceled_at": None,
        "completed_at": None, "created": st.now,
        "current_phase": {"start_date": start, "end_date": end},
        "customer": sub["customer"], "default_settings": {}, "end_behavior": "release",
        "livemode": False, "metadata": dict(p.get("metadata") or {}), "phases": [phase],
        "released_at": None, "released_subscription": None, "status": "active",
        "subscription": sub["id"], "test_clock": None,
    })
    sub["schedule"] = sched["id"]
    st.emit("subscription_schedule.created", sched)
    return sched


def update_schedule(st: State, sched_id: str, p: dict[str, Any]) -> dict[str, Any]:
    sched = st.get("subscription_schedule", sched_id)
    if sched["status"] not in ("active", "not_started"):
        raise invalid(f"You cannot update a subscription schedule that is {sched['status']}.")
    before = snapshot(sched)
    if "end_behavior" in p:
        if p["end_behavior"] not in END_BEHAVIORS:
            raise invalid("Invalid end_behavior: must be one of cancel, release",
                          param="end_behavior")
        sched["end_behavior"] = p["end_behavior"]
    sched["metadata"] = merge_metadata(sched["metadata"], p.get("metadata"))
    if p.get("phases"):
        sched["phases"] = _phases(st, sched, p["phases"], p.get("proration_behavior"))
    sub = st.get("subscription", sched["subscription"])
    if sched["end_behavior"] == "cancel":
        sub["cancel_at"] = sched["phases"][-1]["end_date"]
    st.emit("subscription_schedule.updated", sched, changed(before, sched))
    return sched


def _phases(st: State, sched: dict[str, Any], specs: list[dict[str, Any]],
            proration: str | None) -> list[dict[str, Any]]:
    current = sched["current_phase"]["start_date"]
    start = specs[0].get("start_date")
    if start is None:
        raise missing("phases[0][start_date]")
    if start != current:
        raise invalid("You can not modify the start date of the current phase.",
                      param="phases[0][start_date]")
    phases = []
    for i, spec in enumerate(specs):
        end = spec.get("end_date")
        if end is None:
            raise missing(f"phases[{i}][end_date]")
        if end <= start:
            raise invalid("The end date of a phase must be after its start date.",
                          param=f"phases[{i}][end_date]")
        if not spec.get("items"):
            raise missing(f"phases[{i}][items]")
        items = []
        for j, item in enumerate(spec["items"]):
            price = resolve_price(st, item, f"phases[{i}][items][{j}]", recurring=True)
            items.append({"price": price["id"], "quantity": item.get("quantity", 1),
                          "metadata": item.get("metadata") or {}, "tax_rates": [],
                          "discounts": []})
        phases.append(_phase(items, start, end, metadata=spec.get("metadata") or {},
                             proration=spec.get("proration_behavior") or proration
                             or "create_prorations"))
        start = end
    return phases


def release_schedule(st: State, sched_id: str) -> dict[str, Any]:
    """The subscription keeps running on its current prices, no longer managed by the schedule."""
    sched = st.get("subscription_schedule", sched_id)
    if sched["status"] not in ("active", "not_started"):
        raise invalid(f"You cannot release a subscription schedule that is {sched['status']}.")
    before = snapshot(sched)
    sub = st.get("subscription", sched["subscription"])
    sched.update(status="released", released_at=st.now, released_subscription=sub["id"],
                 current_phase=None)
    sub["schedule"] = None
    st.emit("subscription_schedule.released", sched, changed(before, sched))
    return sched


def enter_phase(st: State, sub: dict[str, Any], at: int) -> None:
    """The subscription reached `at`: if a phase of its schedule starts then, take its prices."""
    sched = st.find("subscription_schedule", sub.get("schedule"))
    if sched is None or sched["status"] != "active":
        return
    phase = next((ph for ph in sched["phases"] if ph["start_date"] == at), None)
    if phase is None:
        if at >= sched["phases"][-1]["end_date"] and sched["end_behavior"] == "release":
            sched.update(status="released", released_at=at, released_subscription=sub["id"])
            sub["schedule"] = None
        return
    sched["current_phase"] = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    old = sub["items"]["data"][0]["price"]["recurring"]
    for item, spec in zip(sub["items"]["data"], phase["items"], strict=False):
        price = st.get("price", spec["price"])
        item.update(price=snapshot(price), plan=plan_from_price(price),
                    quantity=spec["quantity"])
    new = sub["items"]["data"][0]["price"]["recurring"]
    if (old["interval"], old["interval_count"]) != (new["interval"], new["interval_count"]):
        sub["billing_cycle_anchor"] = at
    if phase["metadata"]:
        sub["metadata"] = merge_metadata(sub["metadata"], phase["metadata"])


def complete(st: State, sub: dict[str, Any], at: int) -> None:
    """The subscription ended: its schedule is done."""
    sched = st.find("subscription_schedule", sub.get("schedule"))
    if sched is not None and sched["status"] == "active":
        before = snapshot(sched)
        sched.update(status="completed", completed_at=at, current_phase=None)
        st.emit("subscription_schedule.completed", sched, changed(before, sched))
