"""Logs carry a correlation id and never a secret; /metrics and /healthz report the engine."""

from __future__ import annotations

import io
import json
import logging

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.observability import beat, configure_logging, healthz, render_metrics
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.book import BookSeeder, demo_deals
from sandbox.stack import SandboxStack
from sync.engine.telemetry import METRICS, correlation

KNOWN = {
    "stripe_webhook_secret": "whsec_known_webhook_secret_123",
    "slack_signing_secret": "known-signing-secret-456",
    "slack_app_token": "xapp-known-app-token-789",
}


def _capture(secrets: list[str]) -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    return stream, configure_logging(secrets, level=logging.DEBUG, stream=stream)


def test_log_lines_are_json_with_the_deal_as_correlation_id() -> None:
    stream, handler = _capture([])
    try:
        with correlation(opportunity_id="006A", work_item=7):
            logging.getLogger("closebot.test").info("billing", extra={"step": "bill"})
        logging.getLogger("closebot.test").info("outside")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["correlation_id"], first["work_item"], first["step"]) == ("006A", 7, "bill")
    assert "correlation_id" not in second


def test_secrets_are_masked_in_messages_arguments_extras_and_tracebacks() -> None:
    secret = "sk_test_very_secret_key"
    stream, handler = _capture([secret])
    log = logging.getLogger("closebot.test")
    try:
        log.warning("key %s", secret, extra={"header": f"Bearer {secret}"})
        try:
            raise RuntimeError(f"auth failed for {secret}")
        except RuntimeError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    assert secret not in stream.getvalue()
    assert stream.getvalue().count("[REDACTED]") == 3


def test_a_pipeline_run_logs_no_configured_secret(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    with SandboxStack() as stack:
        seeder = BookSeeder(stack.salesforce)
        for deal in demo_deals():
            seeder.seed(deal)
        settings = Settings(database_url=db_url, **stack.settings_overrides(), **KNOWN)
        secrets = settings.secrets()
        assert len(secrets) >= 5  # Salesforce token, Stripe key, Slack bot token and the above
        stream, handler = _capture(secrets)
        try:
            rt = build_runtime(settings, sessions)
            # Log the settings and an error carrying a secret, as a careless caller might.
            logging.getLogger("closebot.test").info("settings %r", settings.model_dump())
            logging.getLogger("closebot.test").error("stripe said %s", secrets[0])
            sync_once(rt)
        finally:
            logging.getLogger().removeHandler(handler)
    logs = stream.getvalue()
    assert len(logs.splitlines()) > 5
    assert [s for s in secrets if s in logs] == []


def test_metrics_render_in_prometheus_text_format(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    METRICS.clear()
    METRICS.inc("closebot_items_processed_total", system="stripe", step="bill")
    METRICS.observe("closebot_external_call_seconds", 0.02, system="stripe")
    with SandboxStack(slack=False) as stack:
        rt = build_runtime(Settings(database_url=db_url, **stack.settings_overrides()), sessions)
        text = render_metrics(rt)
        beat("worker")
        health = healthz(rt)
    assert '# TYPE closebot_items_processed_total counter' in text
    assert 'closebot_items_processed_total{step="bill",system="stripe"} 1' in text
    assert 'closebot_external_call_seconds_bucket{system="stripe",le="0.025"} 1' in text
    assert 'closebot_external_call_seconds_count{system="stripe"} 1' in text
    assert "closebot_queue_depth 0" in text and "closebot_open_exceptions 0" in text
    assert health["ok"] and health["database"] == "ok" and health["queue_age_s"] == 0
