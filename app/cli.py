"""The `closebot` command line."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading

import typer

from app.cli_ops import register_ops
from app.cli_support import (
    configured,
    existing_database,
    fail,
    load_settings,
    one_line_errors,
    setup_logging,
)
from app.sandbox_cli import sandbox_cli
from app.settings import Settings

cli = typer.Typer(help="closebot: Salesforce → Stripe → ERP, steered from Slack.",
                  no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
config_cli = typer.Typer(help="Configuration.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(config_cli, name="config")
cli.add_typer(sandbox_cli, name="sandbox")
register_ops(cli)


def _known_erp(value: str) -> str:
    if value not in ("ledger", "netsuite", "intacct"):
        raise typer.BadParameter("the ERP is ledger, netsuite or intacct")
    return value


@cli.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    erp: str = typer.Option("ledger", "--erp", callback=_known_erp,
                            help="ledger (embedded), netsuite or intacct (emulated)."),
) -> None:
    """Run the pipeline on local emulators with a small book of deals and print the outcome."""
    from app.demo import render_text, run_demo

    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    summary = run_demo(erp=erp)
    typer.echo(json.dumps(summary, indent=2, default=str) if as_json else render_text(summary))


@cli.command()
@one_line_errors
def sync(once: bool = typer.Option(True, "--once/--forever"),
         as_json: bool = typer.Option(False, "--json", help="Print one JSON object of counts."),
         verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run intake, the work queue and billing events once (or forever, on the scheduler).

    Exit 1, with one line saying what to fix, when a job fails or a system refuses
    closebot's credentials."""
    from app.progress import Bar, on_a_terminal
    from app.slack_serve import post_to_slack_once
    from app.sync_pass import run_pass, summary
    from app.wiring import build_runtime, open_database

    settings = configured()
    setup_logging(settings, verbose=verbose)
    _, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    if not once:
        _run_scheduler(rt, settings)
        return
    if on_a_terminal(machine_output=as_json):
        with Bar() as bar:
            result = run_pass(rt, bar)
    else:
        result = run_pass(rt)
    # New approval cards and alerts go out as the scheduler's Slack jobs would send them.
    result.counts.update(post_to_slack_once(rt, settings))
    typer.echo(json.dumps(dict(result.counts), indent=2) if as_json
               else "\n".join(summary(rt, result.counts)))
    if not result.ok:
        raise fail(result.verdict(settings))


@cli.command()
@one_line_errors
def worker(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run one worker replica (no Slack front) until SIGTERM or Ctrl-C; see docs/operations.md."""
    from app import worker_process
    from app.wiring import build_runtime, open_database

    settings = configured()
    setup_logging(settings, verbose=verbose)
    _, sessions = open_database(settings)
    stop = threading.Event()
    worker_process.install_signals(stop)
    worker_process.run(build_runtime(settings, sessions), settings, stop)


@cli.command()
@one_line_errors
def audit(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    no_alerts: bool = typer.Option(False, "--no-alerts",
                                   help="Don't require a Slack alert per exception."),
) -> None:
    """Check the books across Salesforce, Stripe, the ERP and closebot; exit 1 on a violation."""
    from app.progress import Bar, on_a_terminal
    from app.wiring import build_runtime, open_database
    from sync.money import format_money
    from sync.ops.audit import run_audit

    settings = configured()
    setup_logging(settings)
    _, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    if on_a_terminal(machine_output=as_json):
        with Bar() as bar:
            report = run_audit(rt, require_alerts=not no_alerts,
                               progress=lambda label, count: bar.done(label, count))
    else:
        report = run_audit(rt, require_alerts=not no_alerts)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        raise typer.Exit(0 if report.ok else 1)
    counts = report.to_dict()["counts"]
    typer.echo(f"opportunities checked  {report.opportunities}")
    typer.echo(f"tolerance              {report.tolerance_minor} minor units")
    typer.echo(f"duplicates             {report.duplicates}")
    typer.echo(f"lost deals             {counts.get('lost_deal', 0)}")
    typer.echo(f"unbalanced entries     {counts.get('unbalanced_entry', 0)}")
    typer.echo(f"open exceptions        {report.open_exceptions} ({report.alerts} alerted)")
    typer.echo(f"variances              {len(report.failing)} "
               f"(+{len(report.variances) - len(report.failing)} known from open exceptions)")
    for currency, figures in report.totals.items():
        shown = ", ".join(f"{name} {format_money(amount, currency)}"
                          for name, amount in figures.items())
        typer.echo(f"totals {currency}             {shown}")
    for entity, part in report.entities.items():
        typer.echo(f"entity {entity}: {part['variances'] or 'no'} variances")
        for currency, figures in part["totals"].items():
            shown = ", ".join(f"{name} {format_money(amount, currency)}"
                              for name, amount in figures.items())
            typer.echo(f"  totals {currency}  {shown}")
    for variance in report.variances:
        typer.echo(f"  {'~' if variance.excused_by else '✗'} {variance.line()}")
    for note in report.not_checked:
        typer.echo(f"  not checked: {note}")
    typer.echo("books intact" if report.ok else "VIOLATIONS FOUND")
    raise typer.Exit(0 if report.ok else 1)


def _run_scheduler(rt, settings: Settings) -> None:
    from app.scheduler import build_scheduler

    scheduler = build_scheduler(rt, intake_s=settings.intake_interval_s,
                                worker_s=settings.worker_interval_s,
                                books_s=settings.reconcile_audit_interval_s)
    from app.slack_serve import add_slack_jobs_if_configured

    add_slack_jobs_if_configured(scheduler, rt, settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        scheduler.shutdown(wait=True)


@cli.command()
@one_line_errors
def serve(
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler",
                                   help="Run the sync scheduler in this process too."),
    port: int | None = typer.Option(None, help="HTTP port (default: HTTP_PORT)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """The Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP (/slack/events, /healthz)."""
    from app.slack_serve import run_serve

    settings = configured(slack=True)
    setup_logging(settings, verbose=verbose)
    run_serve(settings, scheduler=scheduler, port=port)


@cli.command()
@one_line_errors
def trace(deal: str = typer.Argument(..., help="Opportunity ID (15 or 18 characters) or the "
                                                "start of the deal's name.")) -> None:
    """Show one deal's chain of custody across the systems."""
    from sync.ops.queries import find_trace, read

    settings = load_settings()
    sessions = existing_database(settings)
    answer = read(sessions, find_trace, query=deal, erp=settings.erp)
    if answer.choices:
        typer.echo(f"Several deals match “{answer.query}”; trace one by its ID:", err=True)
        for opportunity_id, name in answer.choices:
            typer.echo(f"  {opportunity_id}  {name}", err=True)
        raise typer.Exit(1)
    if not answer.opportunity_id:
        typer.echo(f"No deal in closebot's database matches “{answer.query}”.", err=True)
        raise typer.Exit(1)
    for hop in answer.hops:
        mark = {"ok": "✓", "missing": "✗ MISSING", "not yet": "…"}.get(hop["state"], hop["state"])
        detail = f"  {hop['detail']}" if hop.get("detail") else ""
        typer.echo(f"{mark:>10}  {hop['hop']}: {hop['id'] or '-'}{detail}")


@db_cli.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply database migrations."""
    from app.wiring import open_database

    open_database(load_settings())
    typer.echo("database is at the latest schema")


@config_cli.command("check")
@one_line_errors
def config_check() -> None:
    """Which systems are configured (sandbox or real) and what is missing. Prints no secrets."""
    from app.config_check import check
    from app.wiring import NotConfigured

    try:
        settings = load_settings()
    except NotConfigured as error:  # no "see config check" pointer: this is config check
        raise fail(str(error), 2) from None
    lines, ok = check(settings)
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)


from app import cli_admin  # noqa: E402 - registered on the app defined above

cli.command()(cli_admin.evidence)
cli.command()(cli_admin.doctor)

from app import cli_dryrun, cli_golive  # noqa: E402  (commands in their own modules)

cli.command("dry-run")(cli_dryrun.dry_run)
cli.command("import")(cli_golive.import_command)

from app.cli_aging import ar_aging_command  # noqa: E402
from app.cli_books import books_cli  # noqa: E402  (commands in their own module)

books_cli.command("ar-aging")(ar_aging_command)
cli.add_typer(books_cli, name="books")

from app import cli_revenue  # noqa: E402  (in their own module)
from app.cli_revenue import close, deliver, ssp_cli  # noqa: E402

cli.add_typer(ssp_cli, name="ssp")
cli.command()(one_line_errors(deliver))
cli.command()(one_line_errors(close))
books_cli.command("waterfall")(one_line_errors(cli_revenue.waterfall))

from app.cli_bank import bank_cli  # noqa: E402  (commands in their own module)

cli.add_typer(bank_cli, name="bank")

from app.cli_fx import fx_cli  # noqa: E402  (commands in their own module)

cli.add_typer(fx_cli, name="fx")


def main() -> None:
    cli()
