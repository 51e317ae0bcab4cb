"""The revenue waterfall as a PNG, for `/revenue` and `closebot books waterfall --chart`: one
stacked bar per month, a segment per contract (the largest eight, the rest together), a panel
per currency. Drawn with matplotlib's Agg backend on a `Figure` of its own, never pyplot's
global state, so concurrent requests don't draw on each other's figure."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from handlers.chart_aging import money_axis
from sync.ledger.waterfall import LATER, Waterfall

TOP = 8


def waterfall_chart(chart: Waterfall) -> bytes:
    """PNG bytes. Bars are drawn in minor units; the axis prints them as money."""
    currencies = sorted({r.currency for r in chart.rows}) or ["USD"]
    months = [c for c in chart.columns if c[:4].isdigit()] + [LATER]
    fig = Figure(figsize=(11, 4 * len(currencies)), dpi=100)
    for n, currency in enumerate(currencies, start=1):
        ax = fig.add_subplot(len(currencies), 1, n)
        rows = [r for r in chart.rows if r.currency == currency]
        shown, rest = rows[:TOP], rows[TOP:]
        bottoms = [0] * len(months)
        series = [(r.contract, r.cells) for r in shown]
        if rest:
            merged: dict[str, int] = {}
            for r in rest:
                for k, v in r.cells.items():
                    merged[k] = merged.get(k, 0) + v
            series.append((f"{len(rest)} more", merged))
        for label, cells in series:
            heights = [cells.get(m, 0) for m in months]
            ax.bar(months, heights, bottom=bottoms, label=label)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        ax.set_title(f"Revenue waterfall ({currency}) as of {chart.as_of:%d %b %Y}")
        ax.set_ylabel(currency)
        ax.yaxis.set_major_formatter(money_axis(currency))
        ax.tick_params(axis="x", rotation=45)
        if series:
            ax.legend(fontsize="small", loc="upper right")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
