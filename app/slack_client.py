"""slack_sdk behind closebot's small ports: the outbox `Sender` and the people `Directory`.

One retry policy for the Web API: connection errors, 5xx and 429 (sleeping `Retry-After`) are
retried once in the client; anything still failing is left to the outbox, which tries later.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from app.settings import Settings
from sync.dates import Seconds
from sync.ops.outbox import Deferred, Undeliverable

PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "users_not_found",
             "user_not_found", "invalid_blocks", "msg_too_long", "no_text", "account_inactive",
             "cant_update_message", "message_not_found", "invalid_auth", "not_authed"}


def make_client(settings: Settings, *, timeout: int = 10) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    client = WebClient(**kwargs)
    client.retry_handlers = [ConnectionErrorRetryHandler(max_retry_count=1),
                             ServerErrorRetryHandler(max_retry_count=1),
                             RateLimitErrorRetryHandler(max_retry_count=1)]
    return client


def _translate(error: SlackApiError) -> Exception:
    status = error.response.status_code
    code = str(error.response.get("error", "")) if error.response is not None else ""
    if status == 429:
        retry_after = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after")
        return Deferred(f"Slack rate limit ({code})", retry_after=float(retry_after or 1))
    if status >= 500 or code not in PERMANENT:
        return Deferred(f"Slack error {status} {code}")
    return Undeliverable(f"Slack refused: {code}")


class SlackSender:
    """The outbox's view of Slack: post, update, and open a DM by email."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            raise _translate(error) from error
        except OSError as error:
            raise Deferred(f"Slack unreachable: {error}") from error

    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]],
             thread_ts: str | None) -> tuple[str, str]:
        answer = self._call("chat_postMessage", channel=channel, text=text, blocks=blocks,
                            thread_ts=thread_ts, unfurl_links=False)
        return str(answer["channel"]), str(answer["ts"])

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def dm_channel(self, email: str) -> str:
        user = self._call("users_lookupByEmail", email=email)["user"]["id"]
        return str(self._call("conversations_open", users=[user])["channel"]["id"])


class SlackDirectory:
    """People and groups, cached for a few minutes (approver checks happen on every click)."""

    def __init__(self, client: WebClient, *, ttl_s: Seconds = 300.0) -> None:
        self.client, self.ttl = client, ttl_s
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    def _cached(self, key: str, load: Any) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def user_for_email(self, email: str) -> str | None:
        def load() -> str | None:
            try:
                return str(self.client.users_lookupByEmail(email=email)["user"]["id"])
            except SlackApiError:
                return None

        return self._cached(f"email:{email.lower()}", load)

    def name_for(self, user_id: str) -> str | None:
        def load() -> str | None:
            try:
                user = self.client.users_info(user=user_id)["user"]
            except (SlackApiError, OSError):
                return None  # a name is a courtesy: without it, the user ID is shown
            profile = user.get("profile") or {}
            return str(profile.get("real_name") or user.get("real_name") or user["name"])

        return self._cached(f"name:{user_id}", load)

    def group_members(self, group_id: str) -> frozenset[str]:
        def load() -> frozenset[str]:
            users = self.client.usergroups_users_list(usergroup=group_id)["users"]
            return frozenset(str(u) for u in users)

        return self._cached(f"group:{group_id}", load)
