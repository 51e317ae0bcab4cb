"""A recording stand-in for the Slack Web API, served over HTTP for real `slack_sdk` clients.

Point a client at it with `WebClient(token=..., base_url=rec.url + "/api/")`. Every call is
checked the way Slack checks it, in Slack's order, and recorded with the answer it got:

1. outage → HTTP 503; 2. a method Slack's description doesn't know → HTTP 404 `unknown_method`;
3. a queued `fail()` → its status (429 carries `Retry-After`, which slack_sdk's
`RateLimitErrorRetryHandler` sleeps for); 4. no token → `not_authed`, wrong token →
`invalid_auth`; 5. a known method this recorder doesn't emulate → HTTP 404 `unknown_method`;
6. the bot token lacks every scope the description lists for the method → `missing_scope`
with `needed` and `provided`; 7. required arguments missing → the specific error Slack uses
(`channel_not_found`, ...) or `invalid_arguments`; 8. the method itself, with Slack's payload
limits.

Like Slack, every answer to a call made with the bot token carries its scopes in the
`x-oauth-scopes` header; `scopes=` (and `set_scopes`) choose them, by default the scopes
closebot's manifest asks for plus `reactions:write`.

Slack answers API errors with HTTP 200 and `"ok": false`; only rate limits, unknown methods and
outages change the status code. Arguments may arrive in the query string, as a form or as JSON
(slack_sdk sends JSON for chat.* and views.*, with `blocks` as real arrays, and forms elsewhere,
where `blocks` is a JSON string); they are merged in that order.

`response_url()` hands out URLs that behave like `hooks.slack.com/actions/...`: JSON bodies, at
most five uses, `replace_original`/`delete_original` acting on the message they were made for.

`/sandbox/messages` and `/sandbox/users` (see `inspect`) are the recorder's own, for looking in
from another process; Slack has nothing like them, so they stay outside `/api/`.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.lifecycle import Startable
from sandbox.server import ServedApp
from sandbox.slack import (
    conversations,  # noqa: F401 - registers the conversations.* methods
    files,
)
from sandbox.slack.inspect import parse_users, posted_messages
from sandbox.slack.limits import SlackError, check_message
from sandbox.slack.methods import HANDLERS
from sandbox.slack.socket_mode import SocketModeServer
from sandbox.slack.spec import load_methods
from sandbox.slack.workspace import Workspace

RESPONSE_URL_USES = 5
DEFAULT_SCOPES = frozenset({
    "commands", "chat:write", "im:write", "users:read", "users:read.email", "usergroups:read",
    "channels:read", "groups:read", "reactions:write", "files:write",
})

# Missing arguments Slack reports with a specific error rather than `invalid_arguments`.
MISSING_ARG_ERRORS = {
    "channel": "channel_not_found",
    "ts": "message_not_found",
    "message_ts": "message_not_found",
    "timestamp": "message_not_found",
    "email": "users_not_found",
    "user": "user_not_found",
}


@dataclass
class _Failure:
    method: str | None
    remaining: int
    status: int
    error: str
    retry_after: int


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _merged_args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.args.items())
    args.update(request.form.items())
    if request.mimetype == "application/json" and request.get_data():
        try:
            body = json.loads(request.get_data())
        except ValueError as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(body, dict):
            raise SlackError("json_not_object")
        args.update(body)
    return args


class SlackRecorder(Startable):
    """A pretend Slack workspace whose Web API records every call; thread-safe."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-closebot-test",
        team_id: str = "T0CLOSEBOT",
        bot_user_id: str = "U0CLOSEBOT",
        app_token: str = "xapp-1-closebot-test",
        scopes: frozenset[str] = DEFAULT_SCOPES,
        signing_secret: str | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.default_scopes = frozenset(scopes)
        self.app_token = app_token
        # The app's signing secret in this pretend workspace: whoever plays Slack towards the
        # app (a test, a person with curl) signs requests with it.
        self.signing_secret = signing_secret or secrets.token_hex(16)
        self.socket_mode = SocketModeServer()
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self._lock = threading.RLock()
        self._served = ServedApp(self._wsgi)
        self._hook_ids = itertools.count(1)
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._served.url

    def start(self) -> SlackRecorder:
        self._served.start()
        self.socket_mode.start()
        return self

    def stop(self) -> None:
        self.socket_mode.stop()
        self._served.stop()


    # -- set-up and inspection ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget calls, messages, views, users, groups, channels and pending failures; the bot
        token gets its default scopes back."""
        with self._lock:
            self.scopes = self.default_scopes
            self._ws = Workspace(team_id=self.team_id, bot_user_id=self.bot_user_id)
            self._calls: list[dict[str, Any]] = []
            self._responses: list[dict[str, Any]] = []
            self._hooks: dict[str, dict[str, Any]] = {}
            self._failures: list[_Failure] = []
            self._outage = False

    def add_user(self, user_id: str, email: str, name: str) -> None:
        with self._lock:
            self._ws.add_user(user_id, email=email, name=name)

    def add_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        with self._lock:
            self._ws.usergroups[group_id] = list(user_ids)

    def set_scopes(self, scopes: frozenset[str] | set[str]) -> None:
        """The bot token's scopes from now on, as after reinstalling the app with them."""
        with self._lock:
            self.scopes = frozenset(scopes)

    def add_channel(self, name: str, *, private: bool = False,
                    members: list[str] | None = None) -> str:
        """A channel with these members (the bot by default); returns its ID."""
        with self._lock:
            channel_id = self._ws.next_id("G" if private else "C")
            wanted = [self.bot_user_id] if members is None else members
            self._ws.add_channel(channel_id, name, members=wanted, private=private)
            return channel_id

    def remove_from_channel(self, channel: str, user_id: str | None = None) -> None:
        """Take someone (the bot by default) out of a channel, given by ID or name."""
        with self._lock:
            found = self._ws.channels.get(channel) or next(
                c for c in self._ws.channels.values() if c["name"] == channel.lstrip("#"))
            who = user_id or self.bot_user_id
            found["members"] = [m for m in found["members"] if m != who]

    def fail(
        self,
        method: str | None,
        *,
        times: int,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` (any method when None) fail like Slack does."""
        if times <= 0:
            return
        with self._lock:
            self._failures.append(_Failure(method, times, status, error, retry_after))

    def outage(self, on: bool) -> None:
        with self._lock:
            self._outage = on

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if method in (None, c["method"])]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._ws.snapshot_messages(channel)

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ws.ephemerals if user in (None, e["user"])]

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._ws.views.values()))

    def files(self) -> list[dict[str, Any]]:
        """Files shared with `files.completeUploadExternal`, their bytes in `data`."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._ws.files.values() if f["completed"]]

    def responses(self) -> list[dict[str, Any]]:
        """Each POST to a response_url: `{"url", "payload", "status"}`."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def response_url(self, *, channel: str | None = None, ts: str | None = None) -> str:
        """A fresh response_url; give the message it belongs to for replace/delete_original."""
        with self._lock:
            hook = f"{next(self._hook_ids):06d}"
            self._hooks[hook] = {"channel": channel, "ts": ts, "uses": 0}
        return f"{self.url}/actions/{self.team_id}/{hook}/sandbox"

    # -- HTTP --------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        with self._lock:
            if self._outage:
                response = _json({"ok": False, "error": "service_unavailable"}, 503)
            elif len(parts) == 2 and parts[0] == "api":
                response = self._api(parts[1], request)
            elif len(parts) == 4 and parts[0] == "actions":
                response = self._hook(parts[2], request)
            elif len(parts) == 3 and parts[:2] == ["upload", "v1"]:
                status, text = files.receive(self._ws, parts[2], request.get_data(),
                                             request.content_type or "")
                response = Response(text, status=status, content_type="text/plain")
            elif len(parts) == 2 and parts[0] == "sandbox":
                response = self._inspect(parts[1], request)
            else:
                response = Response("Not Found", status=404)
        return response(environ, start_response)

    def _api(self, name: str, request: Request) -> Response:
        record: dict[str, Any] = {"method": name, "args": {}}
        self._calls.append(record)
        headers: dict[str, str] = {}
        status = 200
        try:
            args = _merged_args(request)
            token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            token = token or str(args.pop("token", ""))
            args.pop("token", None)
            record["args"] = args
            body, status, headers = self._answer(name, args, token)
        except SlackError as exc:
            body, status = exc.body(), exc.status
        if token and token == self.bot_token and status != 503:
            headers = {**headers, "x-oauth-scopes": ",".join(sorted(self.scopes))}
        record.update(status=status, response=copy.deepcopy(body))
        return _json(body, status, headers)

    def _answer(
        self, name: str, args: dict[str, Any], token: str
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        spec = load_methods().get(name)
        if spec is None:
            raise SlackError("unknown_method", status=404, req_method=name)
        failure = next((f for f in self._failures if f.method in (None, name)), None)
        if failure is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return {"ok": False, "error": failure.error}, failure.status, headers
        if spec.needs_token and not token:
            raise SlackError("not_authed")
        if spec.needs_token and token != (self.app_token if spec.app_token else self.bot_token):
            raise SlackError("invalid_auth")
        if name == "apps.connections.open":
            return {"ok": True, "url": self.socket_mode.url}, 200, {}
        upload = name == "files.getUploadURLExternal"
        handler = HANDLERS.get(name) if not upload else (
            lambda ws, a: files.get_upload_url(ws, a, self.url))
        if handler is None:
            raise SlackError("unknown_method", status=404, req_method=name)
        needed = None if spec.app_token else spec.missing_scope(self.scopes)
        if needed is not None:
            raise SlackError("missing_scope", needed=needed,
                             provided=",".join(sorted(self.scopes)))
        missing = [p for p in spec.required if args.get(p) in (None, "")]
        if missing:
            code = MISSING_ARG_ERRORS.get(missing[0], "invalid_arguments")
            messages = [f"[ERROR] missing required field: {p}" for p in missing]
            raise SlackError(code, response_metadata={"messages": messages})
        return handler(self._ws, args), 200, {}

    def _inspect(self, name: str, request: Request) -> Response:
        if name == "messages" and request.method == "GET":
            return _json({"ok": True, "messages": posted_messages(self._calls)})
        if name == "users" and request.method == "POST":
            users = parse_users(request.get_data())
            if users is None:
                return _json({"ok": False, "error": "invalid_users"}, 400)
            for user_id, email, real_name in users:
                self._ws.add_user(user_id, email=email, name=real_name)
            return _json({"ok": True, "added": len(users)})
        return Response("Not Found", status=404)

    def _hook(self, hook_id: str, request: Request) -> Response:
        hook = self._hooks.get(hook_id)
        if hook is None:
            return Response("invalid_token", status=404)
        try:
            payload = json.loads(request.get_data() or b"null")
        except ValueError:
            payload = None
        record = {"url": request.base_url, "payload": payload}
        self._responses.append(record)
        hook["uses"] += 1
        status, body = self._apply_hook(hook, payload)
        record["status"] = status
        return Response(body, status=status, content_type="application/json")

    def _apply_hook(self, hook: dict[str, Any], payload: Any) -> tuple[int, str]:
        if hook["uses"] > RESPONSE_URL_USES:
            return 404, "used_url"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        key = (hook["channel"], hook["ts"])
        if payload.get("delete_original"):
            if self._ws.messages.pop(key, None) is None:
                return 404, "message_not_found"
            return 200, '{"ok": true}'
        try:
            content = check_message(payload)
        except SlackError as exc:
            return 400, exc.error
        if payload.get("replace_original") and key in self._ws.messages:
            message = self._ws.messages[key]
            message.update(text=content["text"], blocks=content["blocks"])
            message["edited"] = {"user": self._ws.bot_user_id, "ts": self._ws.next_ts()}
        elif payload.get("response_type") == "in_channel" and hook["channel"]:
            # Without replace_original an in_channel response is a new message in the channel.
            ts = self._ws.next_ts()
            self._ws.messages[(hook["channel"], ts)] = self._ws.bot_message(ts, content)
        return 200, '{"ok": true}'
