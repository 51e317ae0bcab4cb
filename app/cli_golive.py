"""`closebot import`: the go-live import. Links Stripe and ERP records that exist already to
Salesforce accounts and deals; reports what it linked (by which rule, with the score of a fuzzy
match), what matched nothing and what matched several. Exit 1 when something is ambiguous,
2 when closebot is not configured for it. Safe to run again, also after it was killed."""

from __future__ import annotations

import json
import logging
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.settings import Settings

MARKS = {"linked": "✓", "already linked": "=", "ambiguous": "?", "conflict": "!",
         "unmatched": "✗"}
SECTIONS = (("linked", "Linked now"), ("already linked", "Linked before (left as they are)"),
            ("ambiguous", "Ambiguous: not linked, a person decides"),
            ("conflict", "Conflicts: closebot links these elsewhere already"),
            ("unmatched", "Matched nothing: not linked"))


class Bar:
    """The import's progress on a terminal: one line per phase, then the linking."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, label: str, total: int | None = None) -> None:
        if self.task is not None:  # the phase before is done: show it full
            done = self.progress.tasks[-1].completed
            self.progress.update(self.task, total=done or 1, completed=done or 1)
        self.task = self.progress.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


def import_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (no progress)."),
) -> None:
    """Link what already exists in Stripe and the ERP to Salesforce (go-live)."""
    from app.wiring import NotConfigured, build_runtime, open_database
    from sync.errors import SyncError
    from sync.ops.golive_import import run_import

    logging.basicConfig(level=logging.ERROR)
    settings = Settings()
    console = Console(stderr=True)
    try:
        _, sessions = open_database(settings)
        rt = build_runtime(settings, sessions)
        if console.is_terminal and not as_json:
            with Progress(TextColumn("{task.description:<36}"), BarColumn(),
                          MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                          transient=False) as progress:
                report = run_import(rt, Bar(progress))
        else:
            report = run_import(rt)
    except NotConfigured as error:
        _fail(f"{error}; `closebot config check` shows what is missing.", 2)
    except SyncError as error:
        _fail(f"{error.reason}. Links made so far are kept; run it again to finish.", 1)
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else render(report))
    raise typer.Exit(0 if report.ok else 1)


def _fail(message: str, code: int) -> None:
    typer.echo(f"closebot import: {message}", err=True)
    raise typer.Exit(code)


def render(report: Any) -> str:
    out = [f"Go-live import: Stripe and {report.erp} records linked to Salesforce in "
           "closebot's database. Nothing was written to Salesforce, Stripe or the ERP.", ""]
    for what, counts in report.counts().items():
        parts = ", ".join(f"{n} {status}" for status, n in counts.items())
        out.append(f"{what:<28} {parts}")
    for status, title in SECTIONS:
        lines = [line for line in report.lines if line.status == status]
        if not lines:
            continue
        out += ["", f"{title}:"]
        for line in lines:
            out.append(f"  {MARKS[status]} {line.system} {line.kind} {line.id} "
                       f"“{line.name}”{_tail(line)}")
    if not report.ok:
        out += ["", "Resolve the ambiguous records (e.g. set sf_account_id / "
                "sf_opportunity_id metadata in Stripe) and run `closebot import` again."]
    return "\n".join(out) + "\n"


def _tail(line: Any) -> str:
    amount = f" ({line.amount})" if line.amount else ""
    if line.status in ("linked", "already linked"):
        score = f", score {line.score:.2f}" if line.score is not None else ""
        return f"{amount} → {line.target} by {line.rule}{score}"
    candidates = f": {'; '.join(line.candidates)}" if line.candidates else ""
    return f"{amount}: {line.reason}{candidates}"
