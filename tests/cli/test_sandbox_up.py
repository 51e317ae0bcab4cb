"""`closebot sandbox up` starts the stand-ins for someone poking with curl, until SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx


def test_sandbox_up_prints_working_urls_and_stops_on_sigterm() -> None:
    exe = Path(sys.executable).with_name("closebot")
    proc = subprocess.Popen([str(exe), "sandbox", "up"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                exports[key] = value
            if line.startswith("Ctrl-C"):
                break
        stripe = httpx.get(f"{exports['STRIPE_API_BASE']}/v1/customers",
                           headers={"Authorization": f"Bearer {exports['STRIPE_API_KEY']}"})
        assert stripe.status_code == 200 and stripe.json()["object"] == "list"
        salesforce = httpx.get(
            f"{exports['SALESFORCE_INSTANCE_URL']}/services/data/v59.0/limits/",
            headers={"Authorization": f"Bearer {exports['SALESFORCE_ACCESS_TOKEN']}"},
            verify=ssl.create_default_context(cafile=exports["SALESFORCE_CA_BUNDLE"]),
        )
        assert salesforce.status_code == 200 and "DailyApiRequests" in salesforce.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
