"""`closebot doctor` and `closebot config check` with ERP=intacct, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config_check import check
from app.settings import Settings
from app.wiring import NotConfigured, make_erp
from sandbox.stack import SandboxStack
from tests.cli.test_doctor import APPROVER, Doctor, _database, _stack_env


@pytest.fixture
def intacct_doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Doctor]:
    monkeypatch.chdir(tmp_path)
    with SandboxStack(erp="intacct") as stack:
        assert stack.slack is not None
        stack.slack.add_user(APPROVER, "alice@example.com", "Alice Ng")
        env = {**_stack_env(stack, _database(tmp_path)), "ERP": "intacct"}
        yield Doctor(stack, env, monkeypatch)


def test_intacct_healthy_with_a_wrong_secret_and_a_missing_account(
    intacct_doctor: Doctor
) -> None:
    code, lines, output = intacct_doctor.run()
    assert code == 0, output
    for expected in ("✓ Sage Intacct: signed in as closebot@CLOSEBOT-DEMO with OAuth 2.0",
                     "✓ Sage Intacct: the GL accounts closebot posts to exist (1000, 1010, "
                     "1100, 1300, 2100, 2200, 2300, 4900, 6100, 6200, 6300, 6400)"):
        assert any(ln.startswith(expected) for ln in lines), (expected, output)
    assert intacct_doctor.failing(INTACCT_CLIENT_SECRET="0" * 64) == [
        "✗ Sage Intacct: Sage Intacct refused closebot's OAuth client — check "
        "INTACCT_CLIENT_ID, INTACCT_CLIENT_SECRET and INTACCT_USERNAME (user@company), and that "
        "the company authorized the client's sender ID"]
    assert intacct_doctor.failing(INTACCT_BAD_DEBT_ACCOUNT="6999") == [
        "✗ Sage Intacct: GL accounts missing: INTACCT_BAD_DEBT_ACCOUNT=6999 — add them in "
        "General Ledger > Accounts or change the settings"]
    # The cash entries' accounts by role (INTACCT_CASH_ACCOUNTS) are checked with the rest.
    assert intacct_doctor.failing(INTACCT_BAD_DEBT_ACCOUNT="6200",
                                  INTACCT_CASH_ACCOUNTS='{"processing_fees": "6999"}') == [
        "✗ Sage Intacct: GL accounts missing: INTACCT_CASH_ACCOUNTS processing_fees=6999 — add "
        "them in General Ledger > Accounts or change the settings"]


def test_missing_intacct_settings_are_named_and_secrets_never_shown() -> None:
    partial = Settings(erp="intacct", intacct_client_id="client-1",
                       intacct_client_secret="very-secret", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(NotConfigured, match="INTACCT_USERNAME"):
        make_erp(partial, None)  # type: ignore[arg-type]
    lines, ok = check(partial)
    assert not ok and "erp         : intacct MISSING: set INTACCT_USERNAME" in lines
    lines, ok = check(partial.model_copy(update={"intacct_username": "closebot@ACME"}))
    assert "erp         : intacct configured (real, user closebot@ACME, OAuth client set)" in lines
    assert "very-secret" not in "\n".join(lines)
