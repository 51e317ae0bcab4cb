"""A scheduled subscription read back for the audit as one segment per phase still to bill.

A subscription schedule changes a subscription's prices, billing interval and owner (the deal
named in each phase's metadata: a renewal's phases name the renewal) at each phase's start. The
audit's "still to bill" reads a subscription as one price from its current period to its end,
so a schedule is split into segments: the current phase (the subscription as it is, up to the
phase's end) and each later phase (its own prices and interval from its start to its end, owned
by the deal its metadata names). Phases already over were billed: their invoices say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sync.ports import BilledItem, BilledSubscription

Call = Callable[[str, str, str, dict[str, Any]], dict[str, Any]]
_MONTHS = {"month": 1, "year": 12}
_ENDED = ("canceled", "incomplete_expired")


def phase_segments(call: Call, sub: dict[str, Any], base: BilledSubscription,
                   products: dict[str, str]) -> list[BilledSubscription]:
    schedule_id = sub.get("schedule")
    if not isinstance(schedule_id, str) or base.status in _ENDED:
        return [base]
    schedule = call("subscription_schedules.retrieve", "get",
                    f"/v1/subscription_schedules/{schedule_id}", {})
    current = (schedule.get("current_phase") or {}).get("start_date")
    if schedule.get("status") != "active" or current is None:
        return [base]
    segments: list[BilledSubscription] = []
    prices: dict[str, dict[str, Any]] = {}
    for phase in schedule.get("phases") or []:
        if phase["start_date"] < current:
            continue
        meta = phase.get("metadata") or {}
        owner = _owner(base, meta)
        end = _at(phase["end_date"])
        if phase["start_date"] == current:
            segments.append(replace(base, cancel_at=min(end, base.cancel_at or end), **owner))
            continue
        items = [(_price(call, prices, _id(i["price"])), int(i.get("quantity") or 1))
                 for i in phase.get("items") or []]
        recurring = (items[0][0].get("recurring") or {}) if items else {}
        months = _MONTHS.get(recurring.get("interval", ""))
        interval = months * int(recurring.get("interval_count") or 1) if months else None
        start = _at(phase["start_date"])
        segments.append(replace(
            base, interval_months=interval,
            anchor=base.anchor if interval == base.interval_months else start,
            current_period_end=start, cancel_at=min(end, base.cancel_at or end),
            items=tuple(BilledItem(product=products.get(str(p.get("product")), p.get("product")),
                                   unit_minor=int(p.get("unit_amount") or 0), quantity=q)
                        for p, q in items),
            **owner))
    return _one_key_each(segments) or [base]


def _one_key_each(segments: list[BilledSubscription]) -> list[BilledSubscription]:
    """A deal's later phases are the same billing as its first, not a second one: only the
    first segment of a key carries it (the audit counts a key on two objects as a duplicate)."""
    seen: set[str | None] = set()
    out = []
    for segment in segments:
        out.append(replace(segment, key=None) if segment.key in seen else segment)
        seen.add(segment.key)
    return out


def _owner(base: BilledSubscription, meta: dict[str, str]) -> dict[str, Any]:
    if not meta.get("sf_opportunity_id"):
        return {}
    version = meta.get("contract_version")
    return {"opportunity_id": meta["sf_opportunity_id"], "key": meta.get("closebot_key"),
            "contract_version": int(version) if version and version.isdigit() else None}


def _price(call: Call, cache: dict[str, dict[str, Any]], price_id: str) -> dict[str, Any]:
    if price_id not in cache:
        cache[price_id] = call("prices.retrieve", "get", f"/v1/prices/{price_id}", {})
    return cache[price_id]


def _id(value: Any) -> str:
    return str(value["id"] if isinstance(value, dict) else value)


def _at(value: int) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)
