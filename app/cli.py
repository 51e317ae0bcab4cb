"""The `closebot` command line."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading

import typer

from app.settings import Settings

cli = typer.Typer(help="closebot: Salesforce → Stripe → ERP, steered from Slack.",
                  no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
config_cli = typer.Typer(help="Configuration.", no_args_is_help=True)
sandbox_cli = typer.Typer(help="Local stand-ins for Salesforce, Stripe and Slack.",
                          no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(config_cli, name="config")
cli.add_typer(sandbox_cli, name="sandbox")


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _known_erp(value: str) -> str:
    if value not in ("ledger", "netsuite"):
        raise typer.BadParameter("the ERP is ledger or netsuite")
    return value


@cli.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
    erp: str = typer.Option("ledger", "--erp", callback=_known_erp,
                            help="ledger (embedded) or netsuite (emulated)."),
) -> None:
    """Run the pipeline on local emulators with a small book of deals and print the outcome."""
    from app.demo import render_text, run_demo

    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    summary = run_demo(erp=erp)
    typer.echo(json.dumps(summary, indent=2, default=str) if as_json else render_text(summary))


@cli.command()
def sync(once: bool = typer.Option(True, "--once/--forever"),
         verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run intake, the work queue and billing events once (or forever, on the scheduler)."""
    from app.jobs import sync_once
    from app.wiring import build_runtime, open_database

    _logging(verbose)
    settings = Settings()
    _, sessions = open_database(settings)
    rt = build_runtime(settings, sessions)
    if once:
        counts = sync_once(rt)
        typer.echo(json.dumps(dict(counts), indent=2))
        return
    _run_scheduler(rt, settings)


@cli.command()
def worker(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Run one worker replica (no Slack front) until SIGTERM or Ctrl-C; see docs/operations.md."""
    from app import worker_process
    from app.observability import configure_logging
    from app.wiring import build_runtime, open_database

    settings = Settings()
    configure_logging(settings.secrets(), level=logging.INFO if verbose else logging.WARNING)
    _, sessions = open_database(settings)
    stop = threading.Event()
    worker_process.install_signals(stop)
    worker_process.run(build_runtime(settings, sessions), settings, stop)


@cli.command()
def audit(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    no_alerts: bool = typer.Option(False, "--no-alerts",
                                   help="Don't require a Slack alert per exception."),
) -> None:
    """Check the books across Salesforce, Stripe, the ERP and closebot; exit 1 on a violation."""
    from app.wiring import build_runtime, open_database
    from sync.money import format_money
    from sync.ops.audit import run_audit

    settings = Settings()
    _, sessions = open_database(settings)
    report = run_audit(build_runtime(settings, sessions), require_alerts=not no_alerts)
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
def serve(
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler",
                                   help="Run the sync scheduler in this process too."),
    port: int | None = typer.Option(None, help="HTTP port (default: HTTP_PORT)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """The Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP (/slack/events, /healthz)."""
    from app.slack_serve import run_serve

    _logging(verbose)
    run_serve(Settings(), scheduler=scheduler, port=port)


@cli.command()
def trace(opportunity_id: str) -> None:
    """Show one deal's chain of custody across the systems."""
    from app.wiring import open_database
    from storage.db import transaction
    from sync.ops.report import trace as build_trace

    settings = Settings()
    _, sessions = open_database(settings)
    with transaction(sessions) as session:
        hops = build_trace(session, opportunity_id, erp=settings.erp)
    if not hops:
        typer.echo(f"No deal {opportunity_id} in closebot's database.", err=True)
        raise typer.Exit(1)
    for hop in hops:
        mark = {"ok": "✓", "missing": "✗ MISSING", "not yet": "…"}.get(hop["state"], hop["state"])
        detail = f"  {hop['detail']}" if hop.get("detail") else ""
        typer.echo(f"{mark:>10}  {hop['hop']}: {hop['id'] or '-'}{detail}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from app.wiring import open_database

    settings = Settings()
    open_database(settings)
    typer.echo("database is at the latest schema")


@config_cli.command("check")
def config_check() -> None:
    """Which systems are configured (sandbox or real) and what is missing. Prints no secrets."""
    from app.config_check import check

    lines, ok = check(Settings())
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)


@sandbox_cli.command("up")
def sandbox_up(
    erp: str = typer.Option("ledger", "--erp", callback=_known_erp,
                            help="netsuite also starts a NetSuite emulator."),
) -> None:
    """Start the Salesforce and Stripe emulators and a Slack recorder until Ctrl-C."""
    from sandbox.stack import SandboxStack

    with SandboxStack(erp=erp) as stack:
        typer.echo(f"Salesforce emulator: {stack.salesforce.url}")
        typer.echo(f"Stripe emulator:     {stack.stripe.url}")
        if stack.netsuite:
            typer.echo(f"NetSuite emulator:   {stack.netsuite.url}")
        if stack.slack:
            typer.echo(f"Slack recorder:      {stack.slack.url}")
        typer.echo("\nPoint closebot at them with:")
        for key, value in stack.env().items():
            typer.echo(f"export {key}={value}")
        typer.echo("\nCtrl-C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def main() -> None:
    cli()
