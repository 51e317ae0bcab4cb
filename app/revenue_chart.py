"""The revenue waterfall as a PNG (matplotlib's Agg backend: no display needed): one stacked
bar per month, a segment per contract (the largest eight, the rest together), per currency."""

from __future__ import annotations

from pathlib import Path

from sync.ledger.waterfall import LATER, Waterfall
from sync.money import from_minor

TOP = 8


def render(chart: Waterfall, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    currencies = sorted({r.currency for r in chart.rows}) or ["USD"]
    months = [c for c in chart.columns if c[:4].isdigit()] + [LATER]
    fig, axes = plt.subplots(len(currencies), 1, figsize=(11, 4 * len(currencies)),
                             squeeze=False)
    for ax, currency in zip(axes[:, 0], currencies, strict=True):
        rows = [r for r in chart.rows if r.currency == currency]
        shown, rest = rows[:TOP], rows[TOP:]
        bottoms = [0.0] * len(months)
        series = [(r.contract, r.cells) for r in shown]
        if rest:
            merged: dict[str, int] = {}
            for r in rest:
                for k, v in r.cells.items():
                    merged[k] = merged.get(k, 0) + v
            series.append((f"{len(rest)} more", merged))
        for label, cells in series:
            # Plotting only: the figures themselves stay exact in the table and the JSON.
            heights = [float(from_minor(cells.get(m, 0), currency)) for m in months]
            ax.bar(months, heights, bottom=bottoms, label=label)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        ax.set_title(f"Revenue waterfall ({currency}) as of {chart.as_of:%d %b %Y}")
        ax.set_ylabel(currency)
        ax.tick_params(axis="x", rotation=45)
        if series:
            ax.legend(fontsize="small", loc="upper right")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return path
