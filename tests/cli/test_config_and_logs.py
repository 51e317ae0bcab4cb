"""What `config check` says about approvers, and how long-running commands log and show
progress: JSON lines by default (`LOG_JSON`), warnings that name the deal, a progress bar only
on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from sandbox.book import BookSeeder, demo_deals, generated_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import EXE, clean_env, closebot, lines


def test_config_check_says_nobody_can_approve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_APPROVERS", "SLACK_APPROVER_GROUP"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["config", "check"])
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("approvers")]
    assert "SLACK_APPROVERS" in line and "SLACK_APPROVER_GROUP" in line
    assert "nobody can approve" in line

    monkeypatch.setenv("SLACK_APPROVERS", "U0AAA,U0BBB")
    result = CliRunner().invoke(cli, ["config", "check"])
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("approvers")]
    assert "2 people" in line and "nobody" not in line


def _invalid_deal(tmp_path: Path, **env: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    with SandboxStack(slack=False) as stack:
        opp = BookSeeder(stack.salesforce).seed(demo_deals()[1])  # Globex: no billing cadence
        values = {**stack.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'closebot.db'}", **env}
        return opp, closebot("sync", "--once", env=clean_env(**values), cwd=tmp_path)


def test_sync_logs_json_by_default_and_names_the_invalid_deal(tmp_path: Path) -> None:
    opp, result = _invalid_deal(tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in lines(result.stderr)]
    (warning,) = [r for r in records if "validation" in r["message"]]
    assert opp in warning["message"] and "Globex - Renewal" in warning["message"]
    assert warning["opportunity_id"] == opp and warning["level"] == "WARNING"


def test_sync_logs_text_when_log_json_is_off(tmp_path: Path) -> None:
    opp, result = _invalid_deal(tmp_path, LOG_JSON="false")
    assert result.returncode == 0, result.stderr
    (warning,) = [ln for ln in lines(result.stderr) if "validation" in ln]
    assert not warning.startswith("{")
    assert opp in warning and "Globex - Renewal" in warning


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal, as in a person's shell."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(EXE), *args], stdout=follower, stderr=follower, cwd=cwd,
                            env={**env, "TERM": "xterm-256color", "COLUMNS": "120"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_sync_shows_progress_on_a_terminal_and_is_quiet_otherwise(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in generated_deals(30, seed=3):
            seeder.seed(deal)

        def env(name: str) -> dict[str, str]:
            return clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / name}",
                             LOG_JSON="false")

        code, screen = _on_a_terminal(["sync", "--once"], env("tty.db"), tmp_path)
        assert code == 0, screen
        assert "Billing, posting and writing back" in screen and "━" in screen
        assert "work items" in screen and "90/90" in screen
        piped = closebot("sync", "--once", env=env("piped.db"), cwd=tmp_path)
        assert piped.returncode == 0
        assert "Billing, posting" not in piped.stdout + piped.stderr
        assert "━" not in piped.stdout + piped.stderr
        code, screen = _on_a_terminal(["sync", "--once", "--json"], env("json.db"), tmp_path)
        assert code == 0
        assert "━" not in screen and "Billing, posting" not in screen
        summary = json.loads(screen[screen.index("{"):])
        assert summary["intake.accepted"] == 30


def test_audit_shows_its_phases_on_a_terminal_and_is_quiet_otherwise(tmp_path: Path) -> None:
    with SandboxStack(slack=False) as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in generated_deals(12, seed=5):
            seeder.seed(deal)
        env = clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}",
                        LOG_JSON="false")
        assert closebot("sync", "--once", env=env, cwd=tmp_path).returncode == 0
        code, screen = _on_a_terminal(["audit", "--no-alerts"], env, tmp_path)
        assert "Salesforce deals read" in screen and "12/12" in screen, screen
        assert "Stripe invoices read" in screen and "ERP invoices read" in screen
        assert "deals compared across the systems" in screen and "━" in screen
        assert "opportunities checked  12" in screen
        piped = closebot("audit", "--no-alerts", env=env, cwd=tmp_path)
        assert piped.returncode == code
        assert "Salesforce deals read" not in piped.stdout + piped.stderr
        _, screen = _on_a_terminal(["audit", "--no-alerts", "--json"], env, tmp_path)
        assert "━" not in screen and "Salesforce deals read" not in screen
        assert json.loads(screen[screen.index("{"):])["opportunities"] == 12
