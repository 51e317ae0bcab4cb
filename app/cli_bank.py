"""`closebot bank import FILE`: a bank statement (OFX, BAI2 or camt.053) read, stored and
matched to Stripe payouts; what doesn't match becomes an exception for finance in Slack.

A file closebot can't read is one line on stderr and exit 1, with nothing stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli_support import CliFailure, existing_database, load_settings, one_line_errors
from sync.errors import SyncError
from sync.money import format_money

bank_cli = typer.Typer(help="Bank statements: import and match them to Stripe payouts.",
                       no_args_is_help=True)


@bank_cli.command("import")
@one_line_errors
def import_command(
    file: Path = typer.Argument(..., help="The statement: OFX (.ofx/.qfx), BAI2 or camt.053 XML."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    from app.wiring import make_payouts
    from sync.cash.bank_lines import BankFileError, parse_statement
    from sync.engine.bank import import_statement

    try:
        data = file.read_bytes()
    except OSError as error:
        raise CliFailure(f"cannot read {file}: {error.strerror or error}") from None
    try:
        statement = parse_statement(data)
    except BankFileError as error:
        raise CliFailure(f"{file.name}: {error}; nothing was imported") from None
    settings = load_settings()
    sessions = existing_database(settings)
    try:
        result = import_statement(sessions, statement, make_payouts(settings))
    except SyncError as error:
        raise CliFailure(f"{error.reason}; nothing was imported") from None
    if as_json:
        typer.echo(json.dumps({
            "format": result.format, "lines": result.lines, "new_lines": result.new_lines,
            "matched": [{"payout": m.payout_id, "bank_line": m.line_key, "how": m.how}
                        for m in result.matched],
            "unmatched_lines": [{"bank_line": line.key, "amount_minor": line.amount_minor,
                                 "currency": line.currency, "posted_on": str(line.posted_on)}
                                for line in result.unmatched_lines],
            "missing_payouts": [{"payout": p.id, "amount_minor": p.amount_minor,
                                 "currency": p.currency, "arrival_date": str(p.arrival_date)}
                                for p in result.missing_payouts],
        }, indent=2))
        return
    typer.echo(f"Read a {result.format} statement: {result.lines} lines, "
               f"{result.new_lines} new.")
    typer.echo(f"Matched {len(result.matched)} payout(s) to bank lines.")
    for m in result.matched:
        typer.echo(f"  {m.payout_id} ↔ {m.line_key} (by {m.how})")
    if result.unmatched_lines:
        typer.echo(f"{len(result.unmatched_lines)} bank line(s) match no Stripe payout "
                   "(raised for finance):")
        for line in result.unmatched_lines:
            typer.echo(f"  {line.label}")
    if result.missing_payouts:
        typer.echo(f"{len(result.missing_payouts)} Stripe payout(s) have no bank line "
                   "(raised for finance):")
        for p in result.missing_payouts:
            typer.echo(f"  {p.id} {format_money(p.amount_minor, p.currency)} due "
                       f"{p.arrival_date}")
