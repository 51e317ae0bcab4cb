"""`closebot exceptions …` and `closebot approvals list`: the Slack buttons' services on the
command line, with the acting person named, audited the same way, and one line for bad input."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from tests.cli.conftest import clean_env, closebot, lines

OPS = ("UOPS0001", "ops@example.com")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxStack, Path]]:
    """The demo's Globex (fails validation) and Initech (35% off, waits for approval)."""
    tmp_path = tmp_path_factory.mktemp("ops")
    with SandboxStack() as stack:
        assert stack.slack is not None
        stack.slack.add_user(*OPS, "Ops Person")
        seeder = BookSeeder(stack.salesforce)
        for deal in demo_deals()[1:3]:
            seeder.seed(deal)
        result = closebot("sync", "--once", env=_env(stack, tmp_path), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        yield stack, tmp_path


def _env(stack: SandboxStack, tmp_path: Path) -> dict[str, str]:
    return clean_env(**stack.env(), DATABASE_URL=f"sqlite:///{tmp_path / 'closebot.db'}",
                     SLACK_SIGNING_SECRET="signing-secret", SLACK_APPROVERS=OPS[0],
                     SLACK_ALERTS_CHANNEL="C0ALERTS", SLACK_APPROVALS_CHANNEL="C0APPROVALS")


def _run(book: tuple[SandboxStack, Path], *args: str) -> Any:
    stack, tmp_path = book
    return closebot(*args, env=_env(stack, tmp_path), cwd=tmp_path)


def _open_exception(book: tuple[SandboxStack, Path]) -> dict[str, Any]:
    listed = _run(book, "exceptions", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (exc,) = json.loads(listed.stdout)
    return exc


def test_list_and_show_say_what_failed_and_what_to_do(book: tuple[SandboxStack, Path]) -> None:
    exc = _open_exception(book)
    assert exc["deal"] == "Globex - Renewal" and exc["kind"] == "validation"
    assert exc["status"] == "open"
    text = _run(book, "exceptions", "list")
    assert text.returncode == 0
    assert f"#{exc['id']}" in text.stdout and "Globex - Renewal" in text.stdout
    shown = _run(book, "exceptions", "show", str(exc["id"]), "--json")
    detail = json.loads(shown.stdout)
    assert detail["fields"] == ["Billing Cadence"]
    assert "Fix the fields" in detail["hint"]
    readable = _run(book, "exceptions", "show", str(exc["id"]))
    assert "Globex - Renewal" in readable.stdout and "Fix the fields" in readable.stdout
    missing = _run(book, "exceptions", "show", "99999")
    assert missing.returncode == 1 and len(lines(missing.stderr)) == 1
    assert "Traceback" not in missing.stderr


def test_approvals_list_shows_the_pending_request(book: tuple[SandboxStack, Path]) -> None:
    listed = _run(book, "approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (approval,) = json.loads(listed.stdout)
    assert approval["status"] == "pending" and approval["customer"] == "Initech"
    assert any("35" in r["what"] for r in approval["reasons"])
    text = _run(book, "approvals", "list")
    assert "Initech" in text.stdout and "35" in text.stdout


def test_retry_of_a_validation_exception_is_refused_in_one_line(
    book: tuple[SandboxStack, Path]
) -> None:
    exc = _open_exception(book)
    result = _run(book, "exceptions", "retry", str(exc["id"]), "--as", OPS[0])
    assert result.returncode == 1
    (line,) = lines(result.stderr)
    assert "fixed in Salesforce" in line


def test_dismiss_needs_a_reason_and_a_person_and_is_audited(
    book: tuple[SandboxStack, Path]
) -> None:
    stack, tmp_path = book
    exc = _open_exception(book)
    no_reason = _run(book, "exceptions", "dismiss", str(exc["id"]), "--as", OPS[0])
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    blank = _run(book, "exceptions", "dismiss", str(exc["id"]), "--as", OPS[0], "--reason", " ")
    assert blank.returncode == 1 and "why" in blank.stderr
    unknown = _run(book, "exceptions", "dismiss", str(exc["id"]), "--as", "nobody@example.com",
                   "--reason", "duplicate of another deal")
    assert unknown.returncode == 1 and "nobody@example.com" in unknown.stderr
    done = _run(book, "exceptions", "dismiss", str(exc["id"]), "--as", OPS[1],
                "--reason", "duplicate of another deal")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "closebot.db") as db:
        status, by, resolution = db.execute(
            "SELECT status, resolved_by, resolution FROM exceptions WHERE id = ?", (exc["id"],)
        ).fetchone()
        audited = db.execute("SELECT actor FROM audit_log WHERE action = 'exception.dismissed'"
                             ).fetchall()
    assert (status, by, resolution) == ("dismissed", OPS[0], "duplicate of another deal")
    assert audited == [(OPS[0],)]
    assert stack.slack is not None
    alerts = stack.slack.messages("C0ALERTS")
    assert alerts and "duplicate of another deal" in json.dumps(alerts[-1])
    again = _run(book, "exceptions", "dismiss", str(exc["id"]), "--as", OPS[0],
                 "--reason", "twice")
    assert again.returncode == 1 and "already" in again.stderr
    assert _run(book, "exceptions", "list", "--json").stdout.strip() == "[]"
    everything = json.loads(_run(book, "exceptions", "list", "--all", "--json").stdout)
    assert [e["status"] for e in everything] == ["dismissed"]
