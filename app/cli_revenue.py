"""`closebot ssp set | list`: the standalone selling prices relative-SSP allocation uses."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer

from app.cli_support import existing_database, fail, load_settings, one_line_errors
from storage.db import transaction
from sync.engine import ssp as ssp_book
from sync.money import MoneyError, format_money, is_known_currency, to_minor
from sync.revenue.allocation import Ssp

ssp_cli = typer.Typer(help="Standalone selling prices per product (ASC 606 allocation).",
                      no_args_is_help=True)


def _minor(value: str, currency: str) -> int:
    try:
        amount = to_minor(Decimal(value.replace(",", "")), currency)
    except (InvalidOperation, MoneyError, ValueError):
        raise fail(f"“{value}” is not an amount in {currency}: write it as 20000 or "
                   "20000.00.", 2) from None
    if amount < 0:
        raise fail(f"a standalone selling price can't be negative ({value}).", 2)
    return amount


@ssp_cli.command("set")
@one_line_errors
def set_ssp(
    product: str = typer.Argument(..., help="The product's name as Salesforce shows it."),
    price: str = typer.Argument(..., help="Per unit; per month for a recurring product. "
                                "With --high, the low end of a range."),
    high: str | None = typer.Option(None, "--high", help="The high end of an SSP range."),
    currency: str = typer.Option("USD", "--currency"),
    by: str | None = typer.Option(None, "--by", help="Who sets it, for the record."),
) -> None:
    """Set a product's SSP. Deals accepted from now on are allocated with it; a deal held for
    a missing SSP is accepted again on the next sync."""
    currency = currency.upper()
    if not is_known_currency(currency):
        raise fail(f"“{currency}” is not an ISO 4217 currency code.", 2)
    low = _minor(price, currency)
    top = _minor(high, currency) if high is not None else low
    if top < low:
        raise fail(f"the range {format_money(low, currency)} to {format_money(top, currency)} "
                   "contains no price: the high end must be at least the low end.", 2)
    sessions = existing_database(load_settings())
    with transaction(sessions) as session:
        ssp_book.set_price(session, product=product, ssp=Ssp(low, top, currency), by=by)
    typer.echo(f"{product}: SSP {_shown(low, top, currency)}")


@ssp_cli.command("list")
@one_line_errors
def list_ssp(as_json: bool = typer.Option(False, "--json", help="Print JSON, minor units.")
             ) -> None:
    """Every product's SSP, per currency."""
    sessions = existing_database(load_settings())
    with transaction(sessions) as session:
        rows = [(r.product, r.currency, int(r.low_minor), int(r.high_minor), r.updated_by)
                for r in ssp_book.listing(session)]
    if as_json:
        typer.echo(json.dumps([{"product": p, "currency": c, "low_minor": lo, "high_minor": hi,
                                "updated_by": by} for p, c, lo, hi, by in rows], indent=2))
        return
    if not rows:
        typer.echo("No standalone selling prices set.")
    for product, cur, low, top, _ in rows:
        typer.echo(f"{product}: {_shown(low, top, cur)}")


def _shown(low: int, high: int, currency: str) -> str:
    if low == high:
        return format_money(low, currency)
    return f"{format_money(low, currency)} to {format_money(high, currency)}"


def deliver(
    deal: str = typer.Argument(..., help="Opportunity ID or the start of the deal's name."),
    product: str = typer.Argument(..., help="The product delivered, as the deal sells it."),
    on: str | None = typer.Option(None, "--on", help="Delivery day (YYYY-MM-DD); default today."),
    undo: bool = typer.Option(False, "--undo", help="Undo a delivery not recognized yet."),
    by: str = typer.Option(..., "--by", help="Who marks it (checked against DELIVERY_MARKERS)."),
) -> None:
    """Mark a point-in-time obligation delivered: its revenue is recognized on that day."""
    from app import sandbox_clock
    from app.cli_books import _opportunity
    from sync.ledger import Ledger
    from sync.ledger.errors import LedgerError

    settings = load_settings()
    # Whatever the ERP: with NetSuite or Sage Intacct the schedules are closebot's subledger.
    sessions = existing_database(settings)
    opportunity_id, name = _opportunity(sessions, deal)
    today = sandbox_clock.today(sessions)
    try:
        day = None if undo else (date.fromisoformat(on) if on else today)
    except ValueError:
        raise fail(f"--on “{on}” is not a date: write it as 2026-02-14.", 2) from None
    try:
        done = Ledger(sessions).mark_delivered(
            opportunity_id=opportunity_id, product=product, on=day, by=by, today=today,
            allowed=settings.delivery_marker_set)
    except LedgerError as refused:
        raise fail(f"{name}: {refused}") from None
    amount = format_money(done.amount_minor, done.currency)
    typer.echo(f"{name}, {done.label}: " + (
        f"delivered on {done.on:%d %b %Y}; {amount} is recognized on that day"
        if done.on else f"delivery undone; {amount} waits for its delivery"))


def close(
    period: str = typer.Option(..., "--period", help="The month to close, e.g. 2026-11."),
    by: str = typer.Option("closebot", "--by", help="Who closes it, for the record."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, amounts in minor units."),
) -> None:
    """Month-end close: post the period's revenue, lock it, and print the deferred-revenue
    roll-forward tied to the general ledger. Running it again posts nothing."""
    from app import sandbox_clock
    from app.cli_books import _ledger
    from app.wiring import make_ledger
    from sync.ledger.errors import LedgerError

    if load_settings().erp != "ledger":
        return close_on_erp(period, by, as_json)
    sessions = _ledger()
    try:
        report = make_ledger(load_settings(), sessions).close_period(period=period, by=by,
                                               today=sandbox_clock.today(sessions))
    except (LedgerError, ValueError) as refused:
        raise fail(str(refused)) from None
    if as_json:
        typer.echo(json.dumps({
            "period": report.period, "starts_on": report.starts_on, "ends_on": report.ends_on,
            "revenue_entries_posted": report.posted, "already_closed": report.already_closed,
            "closed_by": report.closed_by,
            "roll_forward": [{**asdict(r), "ties": r.ties} for r in report.roll_forward],
            "fx_revaluation": [asdict(r) for r in report.revaluation],
        }, indent=2, default=str))
    else:
        typer.echo("\n".join(close_lines(report)))
    if not all(r.ties for r in report.roll_forward):
        raise typer.Exit(1)


def close_on_erp(period: str, by: str, as_json: bool) -> None:
    """The close on NetSuite or Sage Intacct: closebot's revenue subledger is closed and the
    month's revenue posted to the ERP as journal entries per currency (split at
    REVENUE_JOURNAL_MAX_LINES lines), as the Slack close card posts them."""
    from app import sandbox_clock
    from app.wiring import make_erp, make_revenue_journal
    from sync.errors import SyncError
    from sync.ledger.errors import LedgerError
    from sync.ledger.subledger_close import ErpPeriodCloses

    settings = load_settings()
    sessions = existing_database(settings)
    journal = make_revenue_journal(make_erp(settings, sessions))
    assert journal is not None  # every ERP but the ledger has one
    closes = ErpPeriodCloses(sessions, journal, max_lines=settings.revenue_journal_max_lines)
    try:
        done = closes.close_period(period=period, by=by, today=sandbox_clock.today(sessions))
    except (LedgerError, ValueError, SyncError) as refused:
        raise fail(str(refused)) from None
    report = done.close
    if as_json:
        typer.echo(json.dumps({
            "period": report.period, "erp": done.erp, "already_closed": report.already_closed,
            "closed_by": report.closed_by, "revenue_rows_released": report.posted,
            "journal_entries": [asdict(p) for p in done.postings],
            "roll_forward": [{**asdict(r), "ties": r.ties} for r in done.roll_forward],
        }, indent=2, default=str))
    else:
        _print_erp_close(done)
    if not all(r.ties for r in done.roll_forward):
        raise typer.Exit(1)


def _print_erp_close(done: Any) -> None:
    report = done.close
    state = "already closed" if report.already_closed else "closed"
    typer.echo(f"Period {report.period} {state} by {report.closed_by}; revenue posted to "
               f"{done.erp}:")
    for p in done.postings:
        typer.echo(f"  {p.external_id}: {format_money(p.amount_minor, p.currency)} over "
                   f"{p.lines} obligation lines, dated {p.posted_on:%d %b %Y}"
                   + (f" ({p.note})" if p.note else ""))
    if not done.postings:
        typer.echo("  no revenue came due in this period.")
    if done.roll_forward:
        for line in close_lines(replace(report, roll_forward=done.roll_forward))[1:]:
            typer.echo(line.replace("general ledger", f"{done.erp} general ledger"))
    elif done.postings:
        typer.echo(f"Deferred revenue is not read from {done.erp}'s general ledger.")


def close_lines(report: Any) -> list[str]:
    state = (f"already closed by {report.closed_by}" if report.already_closed
             else f"closed by {report.closed_by}")
    out = [f"Period {report.period} ({report.starts_on:%d %b} to {report.ends_on:%d %b %Y}) "
           f"{state}; {report.posted} revenue entries posted."]
    for r in report.roll_forward:
        m = functools.partial(format_money, currency=r.currency)
        out += [f"Deferred revenue roll-forward, {r.currency}:",
                f"  opening      {m(r.opening)}", f"  + billings   {m(r.billings)}",
                f"  - credits    {m(r.credits)}", f"  - recognized {m(r.recognized)}",
                f"  = closing    {m(r.closing)}",
                f"  general ledger {m(r.ledger_balance)}: "
                + ("ties" if r.ties else f"differs by {m(r.closing - r.ledger_balance)}")]
    if not report.roll_forward:
        out.append("No deferred revenue in or before this period.")
    return out + revaluation_lines(report)


def revaluation_lines(report: Any) -> list[str]:
    """The unrealized FX the close booked per currency (reversed on the next day)."""
    out = []
    for r in getattr(report, "revaluation", ()):
        result = "gain" if r.gain >= 0 else "loss"
        out.append(f"FX revaluation of {r.currency} balances at {report.ends_on:%d %b %Y} "
                   f"({r.currency}/{r.functional} {r.rate}): {r.balances} "
                   f"balance{'s' if r.balances != 1 else ''}, unrealized {result} "
                   f"{format_money(abs(r.gain), r.functional)}, reversed "
                   f"{report.ends_on + timedelta(days=1):%d %b %Y}")
    return out


def waterfall(
    by: str = typer.Option("contract", "--by", help="Rows: contract or customer."),
    months: int = typer.Option(12, "--months", min=1, max=60, help="Months shown."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default today."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write the chart as a PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON, amounts in minor units."),
) -> None:
    """What each contract will still recognize, month by month, and the RPO (current within
    12 months, non-current after)."""
    from app import sandbox_clock
    from app.cli_books import _as_of, _ledger
    from sync.ledger.waterfall import waterfall as build
    from sync.ops.queries import read

    if by not in ("contract", "customer"):
        raise fail("--by is contract or customer.", 2)
    sessions = _ledger()
    day = _as_of(as_of) or sandbox_clock.today(sessions)
    found = read(sessions, build, as_of=day, months=months, by=by)
    if chart is not None:
        from handlers.chart_revenue import waterfall_chart

        chart.write_bytes(waterfall_chart(found))
    if as_json:
        typer.echo(json.dumps({
            "as_of": found.as_of, "by": by, "columns": found.columns,
            "rows": [{"contract" if by == "contract" else "customer": r.contract,
                      "customer": r.customer, "currency": r.currency,
                      "cells_minor": {c: r.cells.get(c, 0) for c in found.columns},
                      "total_minor": r.total} for r in found.rows],
            "rpo": [asdict(r) for r in found.rpo],
            "chart": str(chart) if chart else None}, indent=2, default=str))
        return
    for r in found.rpo:
        typer.echo(f"RPO {format_money(r.total, r.currency)}: current (12 months) "
                   f"{format_money(r.current, r.currency)}, non-current "
                   f"{format_money(r.non_current, r.currency)}")
    for row in found.rows:
        cells = ", ".join(f"{c} {format_money(v, row.currency)}"
                          for c in found.columns if (v := row.cells.get(c, 0)))
        typer.echo(f"{row.contract} ({row.customer}): {cells}")
    if chart is not None:
        typer.echo(f"Chart written to {chart}")
