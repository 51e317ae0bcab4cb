"""`closebot ssp set | list`: the standalone selling prices relative-SSP allocation uses."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation

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
    from app.cli_books import _ledger, _opportunity
    from sync.ledger import Ledger
    from sync.ledger.delivery import DeliveryRefused

    settings = load_settings()
    sessions = _ledger()
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
    except DeliveryRefused as refused:
        raise fail(f"{name}: {refused}") from None
    amount = format_money(done.amount_minor, done.currency)
    typer.echo(f"{name}, {done.product}: " + (
        f"delivered on {done.on:%d %b %Y}; {amount} is recognized on that day"
        if done.on else f"delivery undone; {amount} waits for its delivery"))
