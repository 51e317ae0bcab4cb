"""The AR aging chart: one panel per currency, a bar per bucket, drawn with matplotlib's Agg
backend (no display) on a `Figure` of its own, never pyplot's global state, so concurrent
requests don't draw on each other's figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sync.money import format_money
from sync.ops.aging import BUCKETS, Aging


def money_axis(currency: str) -> FuncFormatter:
    """Ticks of an axis drawn in minor units, printed as whole units of the currency."""
    return FuncFormatter(lambda tick, _: format_money(round(tick), currency).rsplit(".", 1)[0])


COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#b71c1c")


def aging_chart(aging: Aging) -> bytes:
    """PNG bytes. Bars are drawn in minor units; the labels print the exact amounts."""
    currencies = list(aging.totals) or ["USD"]
    fig = Figure(figsize=(8, 1.0 + 2.6 * len(currencies)), dpi=100)
    for n, currency in enumerate(currencies, start=1):
        axes = fig.add_subplot(len(currencies), 1, n)
        row = aging.totals.get(currency, dict.fromkeys(BUCKETS, 0))
        heights = [row[b] for b in BUCKETS]
        bars = axes.bar(BUCKETS, heights, color=COLOURS)
        axes.bar_label(bars, labels=[format_money(row[b], currency) for b in BUCKETS],
                       fontsize=8, padding=2)
        axes.set_title(f"Open receivables by days past due ({currency}), as of {aging.as_of}",
                       fontsize=10)
        axes.set_ylabel(currency)
        axes.yaxis.set_major_formatter(money_axis(currency))
        axes.margins(y=0.2)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
