"""The real `closebot` entry point in a child process, with only the environment a test gives it.

A child process is what a person runs: its exit code, its stderr (log lines, tracebacks) and the
files it leaves in its working directory are exactly what they would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = Path(sys.executable).with_name("closebot")
# Settings a developer's shell may carry; a test states every one it wants.
CONFIG_PREFIXES = ("SALESFORCE_", "STRIPE_", "SLACK_", "NETSUITE_", "DATABASE_URL", "ERP",
                   "LOG_JSON", "HTTP_PORT")


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env.update(values)
    return env


def closebot(*args: str, env: dict[str, str], cwd: Path,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def succeeds(*args: str, env: dict[str, str], cwd: Path) -> str:
    """stdout of a command that must exit 0 (its output shown when it doesn't)."""
    done = closebot(*args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
