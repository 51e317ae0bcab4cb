"""`closebot dry-run`: what a sync would create in Stripe, post to the ERP and write back to
Salesforce, changing nothing anywhere. Exit 1 when a deal would fail (validation or a step),
2 when closebot is not configured for it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings

MARKS = {"create": "+", "update": "~", "use existing": "="}


def dry_run(
    opportunity: str | None = typer.Option(
        None, "--opportunity", help="One deal: its opportunity ID or name (default: every deal "
                                    "the next sync would read)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show what a sync would create in Stripe, post to the ERP and write back to Salesforce,
    without changing anything anywhere."""
    from app.wiring import NotConfigured, build_runtime
    from storage.db import make_engine, make_session_factory
    from sync.errors import SyncError
    from sync.ops.dryrun import dry_run as run
    from sync.ops.dryrun import find_deal
    from sync.ops.surface import UserError

    logging.basicConfig(level=logging.ERROR)
    settings = Settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        rt = build_runtime(settings, sessions)
        ids = [find_deal(rt, opportunity)] if opportunity is not None else []
        result = run(rt, opportunity_ids=ids, source=_existing(settings, sessions))
    except NotConfigured as error:
        _fail(f"{error}; `closebot config check` shows what is missing.", 2)
    except UserError as error:
        _fail(error.message, 1)
    except SyncError as error:
        _fail(f"{error.reason}. Nothing was changed.", 1)
    finally:
        engine.dispose()
    typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else render(result))
    raise typer.Exit(0 if result.ok else 1)


def _fail(message: str, code: int) -> None:
    typer.echo(f"closebot dry-run: {message}", err=True)
    raise typer.Exit(code)


def _existing(settings: Settings, sessions: sessionmaker[Session]) -> sessionmaker[Session] | None:
    """closebot's database if it exists and has been set up; it is only read, never created
    or migrated by a dry run."""
    from storage.scratch import has_schema

    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or not Path(path).exists():
            return None
    return sessions if has_schema(sessions) else None


def render(result: object) -> str:
    from sync.ops.dryrun_plan import DryRun

    assert isinstance(result, DryRun)
    out = ["Dry run: nothing was changed in Salesforce, Stripe, the ERP or closebot's database.",
           ""]
    for opp in result.missing:
        out += [f"✗ {opp}: Salesforce has no closed-won opportunity with this ID.", ""]
    if not result.deals and not result.missing:
        out.append("No closed-won deal is waiting: a sync now would change nothing.")
    for deal in result.deals:
        amount = f"  {deal.amount}" if deal.amount else ""
        out.append(f"● {deal.name} ({deal.opportunity_id}){amount}: {deal.verdict}")
        if deal.outcome == "invalid":
            out.append("  Nothing would be created. Fix in Salesforce:")
        elif deal.outcome == "failed":
            out.append("  It would stop here:")
        out += [f"    - {problem}" for problem in deal.problems]
        if deal.approval:
            out.append("  Nothing is created until someone approves in Slack:")
            out += [f"    - {reason}" for reason in deal.approval]
        out += _records(deal.records)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _records(records: list) -> list[str]:  # type: ignore[type-arg]
    out: list[str] = []
    heading: tuple[str, str] | None = None
    for r in records:
        if (r.phase, r.system) != heading:
            if heading is None or r.phase != heading[0]:
                out.append("  Once approved:" if r.phase == "after approval" else "  Now:")
            heading = (r.phase, r.system)
            out.append(f"    {r.system}")
        amount = f"  {r.amount}" if r.amount else ""
        out.append(f"      {MARKS.get(r.action, '?')} {r.action} {r.kind} {r.id}: "
                   f"{r.title}{amount}")
        out += [f"          {d}" for d in r.details]
        out += [f"          {name}: {value}" for name, value in r.fields]
    return out
