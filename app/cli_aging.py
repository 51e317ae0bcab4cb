"""`closebot books ar-aging [--customer NAME] [--json]`: open receivables by days past due, per
currency and customer, from the ERP closebot posts to (the embedded ledger, NetSuite or Sage
Intacct)."""

from __future__ import annotations

import json

import typer

from app import sandbox_clock
from app.cli_support import existing_database, load_settings, one_line_errors
from sync.money import format_money
from sync.ops.aging import BUCKETS, Aging, ar_aging


def aging_table(aging: Aging) -> list[str]:
    """The aging as fixed-width lines: one per currency total, then one per customer."""
    width = 18
    head = f"{'':<32}" + "".join(f"{b:>{width}}" for b in (*BUCKETS, "total"))
    lines = [f"Accounts receivable aging as of {aging.as_of}"
             + (f", customers matching “{aging.customer}”" if aging.customer else ""), head]
    for currency, row in aging.totals.items():
        lines.append(_line(f"All customers ({currency})", currency, row, width))
    for (name, currency), row in aging.customers.items():
        lines.append(_line(f"  {name[:28]}", currency, row, width))
    if not aging.totals:
        lines.append("No open invoices.")
    return lines


def _line(label: str, currency: str, row: dict[str, int], width: int) -> str:
    cells = [*(row[b] for b in BUCKETS), sum(row.values())]
    return f"{label:<32}" + "".join(f"{format_money(c, currency):>{width}}" for c in cells)


def as_json(aging: Aging) -> dict[str, object]:
    return {"as_of": str(aging.as_of), "customer": aging.customer, "invoices": aging.invoices,
            "buckets": list(BUCKETS),
            "totals_minor": aging.totals,
            "customers": [{"customer": name, "currency": currency, "buckets_minor": row}
                          for (name, currency), row in aging.customers.items()]}


@one_line_errors
def ar_aging_command(
    customer: str | None = typer.Option(None, "--customer", help="Part of a customer's name."),
    json_out: bool = typer.Option(False, "--json", help="Print minor units as JSON."),
) -> None:
    """Open receivables per customer and currency by days past due (current, 1-30, 31-60,
    61-90, 90+)."""
    from app.wiring import make_erp

    settings = load_settings()
    sessions = existing_database(settings)
    aging = ar_aging(make_erp(settings, sessions), sandbox_clock.today(sessions), customer)
    if json_out:
        typer.echo(json.dumps(as_json(aging), indent=2, ensure_ascii=False))
        return
    for line in aging_table(aging):
        typer.echo(line)
