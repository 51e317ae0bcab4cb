"""The AR aging chart: one panel per currency, a bar per bucket, drawn with matplotlib's Agg
backend (no display) on a `Figure` of its own, never pyplot's global state, so concurrent
requests don't draw on each other's figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from sync.money import format_money, from_minor
from sync.ops.aging import BUCKETS, Aging

COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#b71c1c")


def aging_chart(aging: Aging) -> bytes:
    """PNG bytes. Bar heights are floats for drawing only; the labels print the exact amounts."""
    currencies = list(aging.totals) or ["USD"]
    fig = Figure(figsize=(8, 1.0 + 2.6 * len(currencies)), dpi=100)
    for n, currency in enumerate(currencies, start=1):
        axes = fig.add_subplot(len(currencies), 1, n)
        row = aging.totals.get(currency, dict.fromkeys(BUCKETS, 0))
        heights = [float(from_minor(row[b], currency)) for b in BUCKETS]
        bars = axes.bar(BUCKETS, heights, color=COLOURS)
        axes.bar_label(bars, labels=[format_money(row[b], currency) for b in BUCKETS],
                       fontsize=8, padding=2)
        axes.set_title(f"Open receivables by days past due ({currency}), as of {aging.as_of}",
                       fontsize=10)
        axes.set_ylabel(currency)
        axes.margins(y=0.2)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
