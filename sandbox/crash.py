"""Crash harness: run worker replicas as child processes and SIGKILL them at random moments.

A SIGKILL gives a worker no chance to clean up: whatever it had leased stays leased until the
lease expires, and whatever it had sent to Stripe or Salesforce may or may not have happened.
The harness restarts each killed worker at once against the same database, which is exactly
the situation closebot's idempotency keys, ID links and leases must survive.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from sandbox.lifecycle import Startable

WORKER_CMD = (sys.executable, "-m", "app.worker_process")


class CrashHarness(Startable):
    def __init__(
        self, env: dict[str, str], *, replicas: int = 1, seed: int = 0,
        log_dir: Path | None = None, cmd: tuple[str, ...] = WORKER_CMD,
    ) -> None:
        self.env = {**os.environ, **env}
        self.replicas = replicas
        self.rng = random.Random(seed)
        self.log_dir = log_dir
        self.cmd = cmd
        self.procs: list[subprocess.Popen[bytes]] = []
        self.kills = 0
        self.starts = 0

    def _spawn(self, slot: int) -> subprocess.Popen[bytes]:
        self.starts += 1
        out = subprocess.DEVNULL
        if self.log_dir is not None:
            # Appending keeps every incarnation's lines, so a test can grep a whole run.
            out = open(self.log_dir / f"worker-{slot}.log", "ab")  # noqa: SIM115
        return subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=out)

    def start(self) -> CrashHarness:
        self.procs = [self._spawn(i) for i in range(self.replicas)]
        return self

    def kill_random(self) -> int:
        """SIGKILL one replica at random and start a fresh one in its place; returns the pid."""
        slot = self.rng.randrange(len(self.procs))
        victim = self.procs[slot]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.kills += 1
        self.procs[slot] = self._spawn(slot)
        return victim.pid

    def next_gap(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.procs)

    def stop(self, timeout: float = 30.0) -> list[int]:
        """SIGTERM every replica and wait: the graceful path. Returns their exit codes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes

