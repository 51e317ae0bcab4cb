"""The HTTP front: `/slack/events` into the Bolt app (HTTP mode), `/stripe/webhooks`,
`/healthz` for load balancers and `/metrics` for Prometheus."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import App, BoltRequest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from app.observability import healthz, render_metrics
from app.stripe_webhooks import Endpoint, handle_stripe_webhook
from sync.engine.runtime import Runtime

log = logging.getLogger("closebot.http")
MAX_BODY = 1_000_000
JSON = "application/json"


def wsgi_app(
    app: App | None,
    sessions: sessionmaker[Session],
    *,
    runtime: Runtime | None = None,
    webhook_secret: str | Sequence[Endpoint] | None = None,
    scheduler: bool = False,
) -> Any:
    """`app` is None in Socket Mode: Slack events then arrive over the socket, not here."""

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/healthz":
            response = _health(sessions, runtime, scheduler)
        elif request.path == "/metrics" and runtime is not None:
            response = Response(render_metrics(runtime), content_type="text/plain; version=0.0.4")
        elif request.path == "/slack/events" and request.method == "POST" and app is not None:
            response = _dispatch(app, request)
        elif request.path == "/stripe/webhooks" and request.method == "POST":
            response = _stripe(request, runtime, webhook_secret)
        else:
            response = Response("Not Found", status=404)
        return response(environ, start_response)

    return application


def _dispatch(app: App, request: Request) -> Response:
    if (request.content_length or 0) > MAX_BODY:
        return Response("Payload Too Large", status=413)
    body = request.get_data(as_text=True)
    try:
        # Bolt parses `payload=` JSON while building the request, before any listener runs.
        bolt = BoltRequest(body=body, query=request.query_string.decode(),
                           headers={k.lower(): [v] for k, v in request.headers.items()})
    except (ValueError, TypeError, AttributeError, KeyError):
        log.warning("refused a Slack request whose payload is not a JSON object")
        return Response("Bad Request: malformed payload", status=400)
    if body.startswith("payload=") and not _well_formed(bolt.body):
        # Bolt's own routing and logging assume Slack's shapes and fail on others.
        log.warning("refused a Slack interactive payload of an unexpected shape")
        return Response("Bad Request: malformed payload", status=400)
    answer = app.dispatch(bolt)
    # Bolt's headers (its Content-Type among them) are the answer's only headers: werkzeug adds
    # its default `text/plain` only when none is given, and two would confuse Slack.
    headers = [(name, value) for name, values in answer.headers.items() for value in values]
    return Response(answer.body, status=answer.status, headers=headers)


def _well_formed(payload: Any) -> bool:
    """Bolt hands interactive requests over as the decoded `payload` JSON."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    objects = ("user", "team", "channel", "view", "container", "message", "enterprise")
    if any(key in payload and not isinstance(payload[key], dict | None) for key in objects):
        return False
    actions = payload.get("actions", [])
    return isinstance(actions, list) and all(isinstance(a, dict) for a in actions)


def _stripe(request: Request, runtime: Runtime | None,
            secret: str | Sequence[Endpoint] | None) -> Response:
    if runtime is None or not secret:
        return Response("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)", status=404)
    if (request.content_length or 0) > MAX_BODY:
        return Response("Payload Too Large", status=413)
    status, body = handle_stripe_webhook(
        request.get_data(), request.headers.get("Stripe-Signature"), secret=secret, rt=runtime
    )
    return Response(body, status=status)


def _health(sessions: sessionmaker[Session], runtime: Runtime | None, scheduler: bool) -> Response:
    if runtime is not None:
        report = healthz(runtime)
        if not scheduler:  # a front without the scheduler answers for itself only
            report["scheduler"] = "not in this process"
            report["ok"] = report["database"] == "ok"
        return Response(json.dumps(report), status=200 if report["ok"] else 503,
                        content_type=JSON)
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("health check failed: %s", error)
        return Response(json.dumps({"ok": False, "database": "unreachable"}), status=503,
                        content_type=JSON)
    return Response(json.dumps({"ok": True}), content_type=JSON)


def serve(
    app: App | None,
    sessions: sessionmaker[Session],
    *,
    port: int,
    host: str = "0.0.0.0",
    runtime: Runtime | None = None,
    webhook_secret: str | Sequence[Endpoint] | None = None,
    scheduler: bool = False,
) -> BaseWSGIServer:
    """A threaded server; call `.serve_forever()` (or `.shutdown()` from another thread)."""
    handler = wsgi_app(app, sessions, runtime=runtime, webhook_secret=webhook_secret,
                       scheduler=scheduler)
    return make_server(host, port, handler, threaded=True)
