"""`closebot exceptions …` and `closebot approvals list`: what the Slack buttons do, from a shell.

Retry and dismiss call the same services as the buttons (`sync.ops.alerts`), with the same
dependencies (`app.slack_app.build_deps`), so the same people may act, the audit log records
them the same way, and the Slack alert is edited the same way when Slack is configured.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from app.cli_support import CliFailure, one_line_errors
from app.config_check import missing_systems
from app.ops_context import OpsContext
from app.ops_views import (
    approval_lines,
    approval_rows,
    detail_lines,
    exception_detail,
    exception_lines,
    exception_rows,
)
from storage.db import transaction
from storage.tables import Deal, SyncException, WorkItem
from sync.ops.surface import UserError

exceptions_cli = typer.Typer(help="Failed syncs waiting for a person.", no_args_is_help=True)
approvals_cli = typer.Typer(help="Non-standard deals and credits waiting for a decision.",
                            no_args_is_help=True)
AS_HELP = "Who acts: a Slack user ID (U…) or their email; checked like a click in Slack."
JSON_HELP = "Print JSON."
ID_HELP = "The exception's number (see `closebot exceptions list`)."


def register_ops(cli: typer.Typer) -> None:
    cli.add_typer(exceptions_cli, name="exceptions")
    cli.add_typer(approvals_cli, name="approvals")


def _echo(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


@exceptions_cli.command("list")
@one_line_errors
def list_exceptions(
    everything: bool = typer.Option(False, "--all", help="Resolved and dismissed ones too."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Open exceptions: which deal, which step and system, and why."""
    ops = OpsContext.open()
    with transaction(ops.sessions) as session:
        rows = exception_rows(session, ops.deps, everything=everything)
    _echo(rows) if as_json else typer.echo("\n".join(exception_lines(rows)))


@exceptions_cli.command("show")
@one_line_errors
def show_exception(exception_id: int = typer.Argument(..., help=ID_HELP),
                   as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """One exception in full: the reason, the last error, the fields to fix, what to do."""
    ops = OpsContext.open()
    with transaction(ops.sessions) as session:
        exc = session.get(SyncException, exception_id)
        if exc is None:
            raise CliFailure(f"there is no exception #{exception_id}; "
                             "`closebot exceptions list` shows them")
        row = exception_detail(session, ops.deps, exc)
    _echo(row) if as_json else typer.echo("\n".join(detail_lines(row)))


@exceptions_cli.command("retry")
@one_line_errors
def retry_exceptions(exception_ids: list[int] = typer.Argument(..., help=ID_HELP),
                     who: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Run the failed steps again now (nothing is created twice), as the alert's Retry does.

    Several numbers at once, e.g. every deal that failed while a key was wrong."""
    from sync.ops import alerts

    ops = OpsContext.open()
    user = ops.actor(who)
    retried, refused = [], []
    for exception_id in dict.fromkeys(exception_ids):
        try:
            retried.append(alerts.retry(ops.deps, exception_id, user=user))
        except UserError as error:
            refused.append(f"#{exception_id}: {error.message}" if len(exception_ids) > 1
                           else error.message)
    if retried and missing_systems(ops.settings):
        typer.echo("Queued for a retry; the next `closebot sync --once` or a running worker "
                   "runs it.")
    elif retried:
        from app.wiring import build_runtime
        from sync.engine.worker import run_until_idle

        run_until_idle(build_runtime(ops.settings, ops.sessions))
        alerts.sweep(ops.deps)  # the alert shows the outcome, as after a click
        ops.flush()
        refused += _outcomes(ops, retried)
    for line in refused:
        typer.echo(f"closebot: {line}", err=True)
    if refused:
        raise typer.Exit(1)


def _outcomes(ops: OpsContext, retried: list[SyncException]) -> list[str]:
    """Print where each retried deal stands; return the ones that still fail."""
    still = []
    with transaction(ops.sessions) as session:
        for exc in retried:
            item = session.get(WorkItem, exc.work_item_id) if exc.work_item_id else None
            deal = session.get(Deal, exc.opportunity_id) if exc.opportunity_id else None
            now = session.get(SyncException, exc.id)
            name = deal.name if deal else exc.opportunity_id or f"exception #{exc.id}"
            if now is not None and now.status == "open":
                later = item is not None and item.status == "pending"
                still.append(f"{name} failed again and will be retried later: {item.last_error}"
                             if later and item else f"{name} still fails: {now.reason}")
                continue
            typer.echo(f"Exception #{exc.id} retried: {name} is now "
                       f"{deal.status if deal else 'done'}.")
    return still


@exceptions_cli.command("dismiss")
@one_line_errors
def dismiss_exception(
    exception_id: int = typer.Argument(..., help=ID_HELP),
    who: str = typer.Option(..., "--as", help=AS_HELP),
    reason: str = typer.Option(..., "--reason", help="Why it can be dismissed (audited)."),
) -> None:
    """Close an exception without retrying, with the reason on record, as Dismiss does."""
    from sync.ops import alerts

    ops = OpsContext.open()
    alerts.dismiss(ops.deps, exception_id, user=ops.actor(who), reason=reason)
    ops.flush()
    typer.echo(f"Exception #{exception_id} dismissed.")


@approvals_cli.command("list")
@one_line_errors
def list_approvals(
    everything: bool = typer.Option(False, "--all", help="Decided ones too."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Approval requests waiting for a decision in Slack, with what is non-standard."""
    ops = OpsContext.open()
    with transaction(ops.sessions) as session:
        rows = approval_rows(session, ops.deps, everything=everything)
    _echo(rows) if as_json else typer.echo("\n".join(approval_lines(rows)))

