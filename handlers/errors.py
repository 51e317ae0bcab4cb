"""The one error handler: a known (user) error becomes a clear ephemeral message or a modal
field error; anything else shows an error ID that is also in the log."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from handlers import strings
from handlers.markup import Mrkdwn, clip, escape, group_mention, mention
from sync.ops.surface import UserError

log = logging.getLogger("closebot.slack")


def describe(error: Exception, *, mentions: bool = True) -> Mrkdwn:
    """What the person is told, as Slack markup: a user error's message quotes what they typed
    or a record's name, so it is escaped; the people it names become mentions (modal field
    errors are plain text, so they go without)."""
    if isinstance(error, UserError):
        who = [mention(u) for u in error.people] + [group_mention(g) for g in error.groups]
        who = who if mentions else []
        ask = Mrkdwn(" " + strings.ASK.format(who=", ".join(who))) if who else ""
        return Mrkdwn(escape(error.message) + ask)
    error_id = uuid.uuid4().hex[:10]
    log.error("slack listener failed (error ID %s)", error_id, exc_info=error)
    return escape(strings.ERROR_UNKNOWN.format(error_id=error_id))


def handle(error: Exception, body: dict[str, Any], response: Any = None,
           respond: Callable[..., Any] | None = None) -> None:
    """Bolt's global error handler; also used for errors after the ack (lazy listeners)."""
    kind = body.get("type")
    text = describe(error, mentions=kind != "view_submission")
    if kind == "view_submission" and response is not None:
        field = error.field if isinstance(error, UserError) and error.field else None
        block = field or _first_input(body)
        _answer(response, {"response_action": "errors", "errors": {block: clip(text, 150)}})
        return
    if response is not None and kind is None and "command" in body:
        _answer(response, {"response_type": "ephemeral", "text": text})
        return
    if response is not None:
        response.status, response.body = 200, ""
    if respond is not None:
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            log.warning("could not tell the user about: %s", text)


def _answer(response: Any, body: dict[str, Any]) -> None:
    response.status = 200
    response.body = json.dumps(body)
    response.headers["content-type"] = ["application/json;charset=utf-8"]


def _first_input(body: dict[str, Any]) -> str:
    values = (body.get("view", {}).get("state") or {}).get("values") or {}
    return next(iter(values), "reason")


def reported(func: Callable[..., Any], surface: Any) -> Callable[..., Any]:
    """Wrap a lazy listener (`func(body, respond, context, client)`) so its errors reach the
    user the same way as errors before the ack. Bolt copies only its own keys into a lazy
    listener's context, so the surface is handed over here."""

    def run(body: dict[str, Any], respond: Callable[..., Any], client: Any) -> None:
        try:
            func(body=body, respond=respond, context={"surface": surface}, client=client)
        except Exception as error:
            handle(error, body, None, respond)

    run.__name__ = run.__qualname__ = f"lazy_{func.__name__}"
    return run
