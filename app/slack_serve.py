"""`closebot serve`: the Bolt app over Socket Mode or HTTP, with the scheduler beside it."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections import Counter

from apscheduler.schedulers.background import BackgroundScheduler
from werkzeug.serving import BaseWSGIServer

from app.http_server import serve
from app.scheduler import build_scheduler
from app.settings import Settings
from app.slack_app import build_surface, bundle, create_app
from app.slack_jobs import add_slack_jobs
from app.slack_signing import signing_secret_needed
from app.stripe_webhooks import endpoints
from app.wiring import build_runtime, open_database
from sync.engine.runtime import Runtime
from sync.ops import alerts, approvals

log = logging.getLogger("closebot.serve")


def run_serve(settings: Settings, *, scheduler: bool = True, port: int | None = None) -> None:
    """Raises `NotConfigured` before touching anything when HTTP mode has no signing secret."""
    socket_mode = settings.slack_app_token is not None
    secret = settings.slack_signing_secret
    signing_secret_needed(socket_mode=socket_mode,
                          secret=secret.get_secret_value() if secret else None)
    _, sessions = open_database(settings)
    runtime = build_runtime(settings, sessions)
    app = create_app(settings, sessions, runtime, socket_mode=socket_mode)
    jobs = None
    if scheduler:
        jobs = build_scheduler(runtime, intake_s=settings.intake_interval_s,
                               worker_s=settings.worker_interval_s,
                               books_s=settings.reconcile_audit_interval_s)
        add_slack_jobs(jobs, bundle(app).surface, settings)
        jobs.start()
    server = serve(
        None if socket_mode else app, sessions, port=port or settings.http_port, runtime=runtime,
        webhook_secret=endpoints(settings, runtime.config.entities), scheduler=scheduler,
    )
    try:
        if socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            # /healthz, /metrics and /stripe/webhooks still need HTTP beside the socket.
            threading.Thread(target=server.serve_forever, daemon=True).start()
            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
        else:
            _serve_http(server, port or settings.http_port)
    finally:
        if jobs is not None:
            jobs.shutdown(wait=True)


def add_slack_jobs_if_configured(jobs: BackgroundScheduler, runtime: Runtime,
                                 settings: Settings) -> None:
    """`closebot worker` / `sync --forever`: alerts, digest and the outbox without the Bolt app."""
    if settings.slack_bot_token is None:
        return
    from app.slack_app import build_surface
    from app.slack_client import make_client

    surface = build_surface(settings, runtime.sessions, runtime, make_client(settings))
    add_slack_jobs(jobs, surface, settings)


def post_to_slack_once(runtime: Runtime, settings: Settings) -> Counter[str]:
    """`closebot sync --once`: post what the pass produced (new approval cards, alerts for new
    exceptions, their updates) as the scheduler's Slack jobs would; nothing without a bot
    token. A failure is logged and left to the outbox, which tries again on the next run."""
    if settings.slack_bot_token is None:
        return Counter()
    from app.slack_client import make_client

    counts: Counter[str] = Counter()
    try:
        surface = build_surface(settings, runtime.sessions, runtime, make_client(settings))
        counts["cards"] = approvals.post_new_cards(surface.deps)
        counts.update(alerts.sweep(surface.deps))
        for _ in range(100):  # the outbox hands out 50 messages a round
            sent = surface.flush()
            counts.update(sent)
            if not sent.get("sent"):
                break
    except Exception:
        log.exception("posting to Slack failed; the outbox tries again on the next run")
    return Counter({f"slack.{key}": n for key, n in counts.items() if n})


def _serve_http(server: BaseWSGIServer, port: int) -> None:
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log.warning("closebot listening on :%s (/slack/events, /stripe/webhooks, /healthz, "
                "/metrics)", port)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
