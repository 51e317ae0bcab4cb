"""The Slack side of the scheduler: outbox flush, alert sweep (+ new approval cards),
approval reminders and the daily digest, added beside the pipeline's jobs."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from app import sandbox_clock
from app.settings import Settings
from handlers.context import Surface
from sync.ops import alerts, approvals, digest, month_end

log = logging.getLogger("closebot.slack.jobs")
COMMON = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


def _safely(name: str, func: Any) -> Any:
    def run() -> Any:
        try:
            return func()
        except Exception:
            log.exception("slack job %s failed", name)
            return None

    run.__name__ = name
    return run


def sweep_and_flush(surface: Surface) -> None:
    approvals.post_new_cards(surface.deps)
    alerts.sweep(surface.deps)
    surface.flush()


def add_slack_jobs(scheduler: BackgroundScheduler, surface: Surface, settings: Settings) -> None:
    deps = surface.deps
    scheduler.add_job(_safely("slack_outbox", surface.flush), "interval",
                      seconds=settings.slack_outbox_interval_s, id="slack_outbox", **COMMON)
    scheduler.add_job(_safely("slack_alerts", lambda: sweep_and_flush(surface)), "interval",
                      seconds=settings.slack_alerts_interval_s, id="slack_alerts", **COMMON)
    scheduler.add_job(_safely("slack_reminders", lambda: approvals.remind(deps)), "interval",
                      seconds=settings.slack_reminder_interval_s, id="slack_reminders", **COMMON)
    hour, _, minute = settings.digest_time.partition(":")
    tz = settings.digest_timezone
    scheduler.add_job(
        _safely("slack_digest", lambda: digest.post_digest(deps, timezone=tz)),
        CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=settings.digest_timezone),
        id="slack_digest", **COMMON)
    if surface.closes is not None and settings.month_end_close_card:
        closes, sessions = surface.closes, deps.sessions
        scheduler.add_job(
            _safely("slack_close", lambda: month_end.run(
                deps, closes, today=sandbox_clock.today(sessions))),
            CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=tz),
            id="slack_close", **COMMON)
