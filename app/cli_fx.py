"""`closebot fx import FILE` and `closebot fx show`: the exchange rates postings in the
functional currency use (FUNCTIONAL_CURRENCY).

A file closebot can't read is one line on stderr and exit 1, with nothing stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli_support import CliFailure, load_settings, one_line_errors
from storage.db import transaction

fx_cli = typer.Typer(help="Exchange rates for postings in the functional currency.",
                     no_args_is_help=True)


@fx_cli.command("import")
@one_line_errors
def import_command(
    file: Path = typer.Argument(..., help="The ECB's CSV (Date,USD,JPY,… per EUR, e.g. "
                                "eurofxref-hist.csv) or a CSV of date,base,quote,rate."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Load rates; a day and pair already loaded at the same rate is left as it is, so
    importing the same file again adds nothing."""
    from app.wiring import open_database
    from sync.ledger.fx_rates import FxFileError, parse, store

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliFailure(f"cannot read {file}: {getattr(error, 'strerror', None) or error}"
                         ) from None
    try:
        rates = parse(text)
    except FxFileError as error:
        raise CliFailure(f"{file.name}: {error}; nothing was imported") from None
    _, sessions = open_database(load_settings())
    try:
        with transaction(sessions) as session:
            done = store(session, rates, source=file.name)
    except FxFileError as error:
        raise CliFailure(f"{file.name}: {error}; nothing was imported") from None
    pairs = sorted({f"{r.base}/{r.quote}" for r in rates})
    days = sorted({r.on_date for r in rates})
    if as_json:
        typer.echo(json.dumps({"added": done.added, "unchanged": done.unchanged,
                               "pairs": len(pairs),
                               "first": str(days[0]) if days else None,
                               "last": str(days[-1]) if days else None}, indent=2))
        return
    span = f", {days[0]} to {days[-1]}" if days else ""
    typer.echo(f"{file.name}: {done.added} rates added, {done.unchanged} already loaded "
               f"({len(pairs)} currency pairs{span}).")


@fx_cli.command("show")
@one_line_errors
def show_command(
    on: str | None = typer.Option(None, "--on", help="A day (YYYY-MM-DD): the rate used then."),
    pair: str | None = typer.Option(None, "--pair", help="With --on: e.g. EUR/USD."),
) -> None:
    """The pairs loaded and their days; with --on and --pair, the rate a posting on that day
    would use."""
    from datetime import date

    from app.cli_support import existing_database
    from sync.ledger.fx_rates import FxRateMissingError, rate_on, shown, summary

    sessions = existing_database(load_settings())
    with sessions() as session:
        if on or pair:
            if not (on and pair and "/" in pair):
                raise CliFailure("give both --on YYYY-MM-DD and --pair BASE/QUOTE")
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise CliFailure(f"--on “{on}” is not a date: write it as 2026-02-14") from None
            base, _, quote = pair.upper().partition("/")
            try:
                rate = rate_on(session, base, quote, day)
            except FxRateMissingError as error:
                raise CliFailure(error.reason) from None
            typer.echo(f"{base}/{quote} on {day}: {shown(rate)}")
            return
        rows = summary(session)
    if not rows:
        typer.echo("No exchange rates loaded: load them with closebot fx import FILE.")
    for base, quote, first, last, count in rows:
        typer.echo(f"{base}/{quote}: {count} days, {first} to {last}")
