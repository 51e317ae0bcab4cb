"""A new user runs a command before configuring anything: one line, a non-zero exit, no litter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import clean_env, closebot, lines


@pytest.mark.parametrize("command", [["sync", "--once"], ["serve"], ["audit"], ["worker"]])
def test_unconfigured_command_says_one_line_and_leaves_no_database(
    tmp_path: Path, command: list[str]
) -> None:
    result = closebot(*command, env=clean_env(), cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = lines(result.stderr)
    assert "Salesforce" in line and "Stripe" in line
    assert "closebot config check" in line
    assert list(tmp_path.iterdir()) == []  # no closebot.db behind


def test_a_bad_setting_is_one_line_too(tmp_path: Path) -> None:
    env = clean_env(ERP="sap")
    result = closebot("sync", "--once", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = lines(result.stderr)
    assert "ERP" in line and "closebot config check" in line
    assert list(tmp_path.iterdir()) == []
