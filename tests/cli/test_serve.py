"""`closebot serve` as an operator starts it: HTTP mode refuses to run without the signing
secret (one line, non-zero exit, nothing touched); Socket Mode runs without it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.stack import SandboxStack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(stack: SandboxStack, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The stack's environment and nothing of the caller's Slack or database settings."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SLACK_", "SALESFORCE_", "STRIPE_", "DATABASE_"))}
    return {**inherited, **stack.env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "PYTHONUNBUFFERED": "1", **extra}


def _closebot() -> str:
    return str(Path(sys.executable).with_name("closebot"))


def test_http_mode_without_a_signing_secret_refuses_to_start(tmp_path: Path) -> None:
    with SandboxStack() as stack:
        proc = subprocess.Popen([_closebot(), "serve", "--port", str(_free_port())],
                                cwd=tmp_path, env=_env(stack, tmp_path),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                f"serve kept running without a signing secret: {err[-500:]}") from None
    assert proc.returncode != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "SLACK_SIGNING_SECRET" in lines[0] and "Traceback" not in err
    assert out == "" and not (tmp_path / "serve.db").exists()


def test_socket_mode_needs_no_signing_secret(tmp_path: Path) -> None:
    port = _free_port()
    with SandboxStack() as stack:
        assert stack.slack is not None
        env = _env(stack, tmp_path, SLACK_APP_TOKEN=stack.slack.app_token)
        proc = subprocess.Popen([_closebot(), "serve", "--no-scheduler", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert stack.slack.socket_mode.connected.wait(30), "no Socket Mode connection"
            ack = stack.slack.socket_mode.deliver("slash_commands", {
                "command": "/closebot", "text": "help", "user_id": "U1", "team_id": "T0CLOSEBOT",
                "channel_id": "C1", "trigger_id": "1.2", "api_app_id": "A1",
                "response_url": stack.slack.response_url()}, timeout=15)
            assert "/invoice-status" in str(ack["payload"])
            health = _poll(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200 and health.json()["database"] == "ok"
        finally:
            proc.kill()
            proc.communicate()


def _poll(url: str) -> httpx.Response:
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
