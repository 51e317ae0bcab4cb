"""The sandbox path as a new user walks it, one process per command: `sandbox up` in one
terminal, its exports pasted into another, then `sandbox seed`, `sync --once`, `audit`,
`sandbox messages` and `serve`, with nothing edited in between."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

EXE = str(Path(sys.executable).with_name("closebot"))


def _closebot(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _exports(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("export "):
            key, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
            exports[key] = value
        if line.startswith("Ctrl-C"):
            return exports
    raise AssertionError("sandbox up ended before printing its exports")


def _clean_env() -> dict[str, str]:
    """A shell with no settings of this machine in it."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SALESFORCE_", "STRIPE_", "SLACK_", "NETSUITE_"))
            and k not in ("DATABASE_URL", "ERP", "HTTP_PORT")}


@contextmanager
def _sandbox_up(cwd: Path, *args: str) -> Iterator[dict[str, str]]:
    """`closebot sandbox up` running; yields the environment a user gets by pasting its exports."""
    base = _clean_env()
    proc = subprocess.Popen([EXE, "sandbox", "up", *args], stdout=subprocess.PIPE, text=True,
                            cwd=cwd, env={**base, "PYTHONUNBUFFERED": "1"})
    try:
        yield {**base, **_exports(proc)}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    with _sandbox_up(tmp_path) as env:
        yield env


def test_seed_sync_audit_and_see_what_slack_got(sandbox: dict[str, str], tmp_path: Path) -> None:
    assert {"SLACK_SIGNING_SECRET", "SLACK_APPROVERS", "DATABASE_URL"} <= sandbox.keys()
    seeded = _closebot(sandbox, "sandbox", "seed", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "5 deals" in seeded.stdout

    synced = _closebot(sandbox, "sync", "--once", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr

    audit = _closebot(sandbox, "audit", cwd=tmp_path)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "books intact" in audit.stdout and "(1 alerted)" in audit.stdout

    shown = _closebot(sandbox, "sandbox", "messages", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    alert = next(line for line in shown.stdout.splitlines() if "Globex" in line)
    assert "#finance-alerts" in alert and "Billing Cadence is empty" in alert
    assert "chat.postMessage" in alert
    assert any("#finance-approvals" in line and "Initech" in line
               for line in shown.stdout.splitlines())
    # The deal owner was told too: the seed put the book's salespeople into the pretend Slack.
    assert any(line.startswith("D") and "Globex" in line for line in shown.stdout.splitlines())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _signed_command(secret: str, text: str) -> tuple[str, dict[str, str]]:
    body = urlencode({"command": "/invoice-status", "text": text, "user_id": "U0SOMEONE",
                      "team_id": "T0CLOSEBOT", "channel_id": "C0GENERAL",
                      "response_url": "http://127.0.0.1:9/unused", "trigger_id": "1.2.3"})
    ts = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
                  "Content-Type": "application/x-www-form-urlencoded"}


def test_serve_answers_signed_slack_requests_on_the_sandbox(
    sandbox: dict[str, str], tmp_path: Path
) -> None:
    assert _closebot(sandbox, "sandbox", "seed", cwd=tmp_path).returncode == 0
    assert _closebot(sandbox, "sync", "--once", cwd=tmp_path).returncode == 0
    port = _free_port()
    env = {**sandbox, "HTTP_PORT": str(port)}
    proc = subprocess.Popen([EXE, "serve", "--no-scheduler"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        body, headers = _signed_command(sandbox["SLACK_SIGNING_SECRET"], "Globex")
        answer = httpx.post(f"{url}/slack/events", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        text = str(answer.json())
        assert "exception" in text and "Billing Cadence is empty" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_up_with_seed_is_ready_to_sync(tmp_path: Path) -> None:
    with _sandbox_up(tmp_path, "--seed") as env:
        synced = _closebot(env, "sync", "--once", "--json", cwd=tmp_path)
        assert synced.returncode == 0, synced.stderr
        counts = json.loads(synced.stdout)
        assert counts["intake.accepted"] == 3 and counts["slack.alert"] == 1
        shown = _closebot(env, "sandbox", "messages", "--json", cwd=tmp_path)
        assert len(json.loads(shown.stdout)) == 3  # Initech's card, Globex's alert and DM


def test_seed_and_messages_refuse_what_is_not_the_sandbox(tmp_path: Path) -> None:
    real = {**_clean_env(), "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
            "SALESFORCE_ACCESS_TOKEN": "00Dxx!token", "SLACK_API_URL": "https://slack.com/api/"}
    for args in (("sandbox", "seed"), ("sandbox", "messages")):
        refused = _closebot(real, *args, cwd=tmp_path)
        assert refused.returncode == 1, args
        assert "sandbox" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    gone = {**_clean_env(), "SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api/"}
    stopped = _closebot(gone, "sandbox", "messages", cwd=tmp_path)
    assert stopped.returncode == 1 and "still running" in stopped.stderr
    assert len(stopped.stderr.strip().splitlines()) == 1
