"""Delivery of point-in-time obligations (ASC 606-10-25-30): revenue is recognized when control
passes to the customer, which is a delivery, not the contract's start or its invoice.

An obligation that waits for its delivery is planned for `AWAITING`, a day no run ever reaches,
so every reader of schedules keeps working with a plain date: it is never due, and all of it is
still to be recognized after any day.
"""

from __future__ import annotations

from datetime import date

AWAITING = date.max


def delivery_problem(*, product: str, on: date, contract_start: date, today: date) -> str | None:
    """Why `on` can't be the delivery day of `product`, in words finance reads; None if it can."""
    if on < contract_start:
        return (f"{product} can't be delivered on {on:%d %b %Y}: the contract starts on "
                f"{contract_start:%d %b %Y}")
    if on > today:
        return (f"{product} can't be marked delivered on {on:%d %b %Y}, a day still to come: "
                "mark it on the day it is delivered")
    return None
