"""`closebot evidence` and `closebot doctor`: what a controller files and what an admin checks.

Registered on the main CLI in `app/cli.py`. Bad input is one line on stderr and exit 2; a
command that ran but found something wrong exits 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from app.settings import Settings

FORMATS = ("csv", "pdf")


def _refuse(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())).upper() or "a setting"
        raise _refuse(f"{where} is not valid: {first.get('msg')} (closebot config check "
                      "lists the settings)") from None


def evidence(
    period: str = typer.Option(..., "--period", help="A month (2026-10) or quarter (2026-Q4)."),
    fmt: str = typer.Option("csv", "--format", help="csv or pdf."),
    out: Path | None = typer.Option(None, "--out",
                                    help="File to write (default closebot-evidence-<period>)."),
    no_alerts: bool = typer.Option(False, "--no-alerts",
                                   help="Don't require a Slack alert per exception in the audit."),
) -> None:
    """SOX evidence: every approval, credit, retry and dismissal in a period, with the records
    each produced in Stripe and the ERP, and the audit's result. An empty period is evidence
    too (exit 0)."""
    from app.evidence_run import NoDatabase, make_evidence
    from sync.ops.evidence import parse_period
    from sync.ops.surface import BadInput

    try:
        parsed = parse_period(period)
    except BadInput as refused:
        raise _refuse(refused.message) from None
    kind = fmt.strip().lower()
    if kind not in FORMATS:
        raise _refuse(f"“{fmt}” is not an evidence format: use csv or pdf.")
    target = out or Path(f"closebot-evidence-{parsed.label}.{kind}")
    settings = _settings()
    try:
        document, body = make_evidence(settings, parsed, kind, require_alerts=not no_alerts)
    except NoDatabase as missing:
        raise _refuse(str(missing), 1) from None
    try:
        target.write_bytes(body)
    except OSError as error:
        raise _refuse(f"Could not write {target}: {error.strerror or error}", 1) from None
    typer.echo(f"evidence for {parsed.label} ({parsed.span}): {document.summary()}")
    audit = document.audit
    if audit.ok is None:
        typer.echo(f"audit: not run: {audit.error}")
    else:
        typer.echo(f"audit: {audit.verdict} ({len(audit.problems)} violations)")
    typer.echo(f"written to {target}")
    if audit.ok is None:
        raise typer.Exit(1)


def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Check every configured system for real and say what to fix; exit 1 if anything fails."""
    from app.doctor import run_doctor

    checks = run_doctor(_settings())
    if as_json:
        typer.echo(json.dumps({
            "ok": all(c.ok for c in checks),
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "checks": [c.to_dict() for c in checks],
        }, indent=2))
    else:
        for check in checks:
            typer.echo(check.line())
    raise typer.Exit(0 if all(c.ok for c in checks) else 1)
