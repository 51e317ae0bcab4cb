"""The seed deal on NetSuite or Sage Intacct with the Slack app beside it: what the close card's
and Mark delivered's tests on those ERPs share (their `erp_stack` fixture is in conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.jobs import sync_once
from app.settings import Settings
from app.wiring import build_runtime
from sandbox.slack import SlackRecorder
from sandbox.stack import SandboxStack
from sync.engine.runtime import Runtime
from tests.handlers.conftest import slack_settings
from tests.integration.books import advance_months, deal_status, seed_acme, today
from tests.integration.conftest import make_settings

SLACK_KEYS = ("slack_bot_token", "slack_signing_secret", "slack_api_url", "slack_approvers",
              "slack_alerts_channel", "slack_approvals_channel", "slack_digest_channel")


def seeded(stack: SandboxStack, recorder: SlackRecorder, db_url: str,
           sessions: sessionmaker[Session], **overrides: Any
           ) -> tuple[Settings, Runtime, str, date]:
    """The seed deal synced to the ERP from S, the next 1st of a month, with the clock on S:
    the Slack app's settings (the ERP's with `overrides`), the runtime (its clock Stripe's),
    the opportunity and S."""
    base = make_settings(stack, db_url, **overrides)
    slack = slack_settings(recorder, db_url)
    settings = base.model_copy(update={k: getattr(slack, k) for k in SLACK_KEYS})
    rt = build_runtime(base, sessions)
    rt.now = lambda: datetime.fromtimestamp(stack.stripe.now, UTC)
    s = (today(stack).replace(day=28) + timedelta(days=4)).replace(day=1)
    advance_months(stack, s, 0)
    opp = seed_acme(stack, s)
    sync_once(rt)
    assert deal_status(sessions, opp) == "synced"
    return settings, rt, opp, s
