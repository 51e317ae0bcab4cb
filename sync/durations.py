"""Quantities that are legitimately floating point, named so none is mistaken for money
(money is always `Decimal` or integer minor units, see `sync.money`)."""

from __future__ import annotations

from typing import TypeAlias

Seconds: TypeAlias = float
Sample: TypeAlias = float  # a metric sample, as Prometheus exposes it
