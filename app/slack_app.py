"""The Bolt app factory and the one global error handler.

HTTP mode: `process_before_response=True` with lazy listeners, so the ack (often the whole
answer) is the HTTP response and slow work continues on a thread pool. Socket Mode:
`process_before_response=False`, acking over the socket while the listener carries on.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.slack_client import SlackDirectory, SlackSender, make_client
from app.slack_signing import SignedRequests
from app.wiring import configured_entities, make_payouts, make_period_closes
from handlers import Registered, errors, register
from handlers.context import Surface
from handlers.ids import command_names
from handlers.render import BlockRenderer
from sync.engine.runtime import Runtime
from sync.engine.worker import run_until_idle
from sync.ledger import Ledger
from sync.ops import alerts, outbox
from sync.ops.surface import ApproverPolicy, Channels, Deps, Directory, Links

log = logging.getLogger("closebot.slack")


def _ids(value: str) -> frozenset[str]:
    return frozenset(u.strip() for u in value.split(",") if u.strip())


def build_deps(settings: Settings, sessions: sessionmaker[Session], directory: Directory) -> Deps:
    key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    return Deps(
        sessions=sessions, directory=directory,
        render=BlockRenderer(reminder_hours=settings.approval_reminder_hours),
        policy=ApproverPolicy(
            users=settings.approver_ids, group=settings.slack_approver_group,
            credit_users=_ids(settings.slack_credit_approvers),
            credit_group=settings.slack_credit_approver_group,
            two_approvers_minor=settings.credit_two_approvers_minor,
            close_users=_ids(settings.slack_close_approvers),
            operators=settings.operator_ids,
            entity_users={e.name: e.approvers
                          for e in configured_entities(settings).entities if e.approvers}),
        channels=Channels(alerts=settings.slack_alerts_channel,
                          approvals=settings.slack_approvals_channel,
                          digest=settings.slack_digest_channel),
        links=Links(salesforce=settings.salesforce_ui_url or settings.salesforce_instance_url,
                    stripe=settings.stripe_dashboard_url, stripe_test=not key.startswith("sk_live"),
                    erp=settings.erp_record_url),
        group_min=settings.slack_group_alert_min,
        reminder_hours=settings.approval_reminder_hours, erp=settings.erp)


def build_surface(settings: Settings, sessions: sessionmaker[Session], runtime: Runtime | None,
                  client: WebClient) -> Surface:
    deps = build_deps(settings, sessions, SlackDirectory(client))
    sender = SlackSender(client)

    def flush() -> Any:
        return outbox.flush(sessions, sender)

    def after_retry() -> None:
        if runtime is not None:
            run_until_idle(runtime)
        alerts.sweep(deps)
        flush()

    return Surface(deps=deps, rt=runtime, names=command_names(settings.slack_commands),
                   timezone=settings.digest_timezone, flush=flush, after_retry=after_retry,
                   payouts=make_payouts(settings) if settings.stripe_api_key else None,
                   # Every ERP: with NetSuite or Sage Intacct the schedules are closebot's
                   # revenue subledger, the ledger's tables, which the close posts from.
                   deliveries=Ledger(sessions),
                   closes=make_period_closes(settings, sessions,
                                             runtime.erp if runtime is not None else None),
                   delivery_markers=settings.delivery_marker_set)


def create_app(settings: Settings, sessions: sessionmaker[Session], runtime: Runtime | None, *,
               socket_mode: bool = False, client: WebClient | None = None) -> App:
    client = client or make_client(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret \
        else None
    # HTTP mode: our verification (Bolt's, plus a header shape check) in Bolt's place, ahead
    # of authorization; it refuses to exist without a secret. Socket Mode needs no secret.
    verify = None if socket_mode else SignedRequests(secret or "", base_logger=log)
    app = App(client=client, signing_secret=secret or "", process_before_response=not socket_mode,
              logger=log, ignoring_self_events_enabled=True, request_verification_enabled=False,
              before_authorize=verify)
    surface = build_surface(settings, sessions, runtime, client)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], response: Any, respond: Any) -> None:
        errors.handle(error, body, response, respond)

    app.closebot = Bundle(surface, register(app, surface))  # type: ignore[attr-defined]
    return app


class Bundle:
    """What `create_app` wired, for the scheduler and the manifest test."""

    def __init__(self, surface: Surface, registered: Registered) -> None:
        self.surface, self.registered = surface, registered


def bundle(app: App) -> Bundle:
    return app.closebot  # type: ignore[attr-defined,no-any-return]
