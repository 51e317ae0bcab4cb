"""`closebot doctor` for Slack: the bot token, its scopes against manifest.yml, the bot's place in
each channel closebot posts to, and who may approve.

Slack tells a token's scopes in the `x-oauth-scopes` header of every Web API answer; auth.test
is the cheapest call to read it from. Channels given by name are found with conversations.list
(public and private ones the bot can see), by ID with conversations.info, whose `is_member`
says whether the bot is in. Only reads; no message is posted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from app.doctor_approvers import approver_checks
from app.settings import Settings
from app.slack_client import make_client
from sync.ports import Check

SYSTEM = "Slack"
MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
APP_PAGE = "api.slack.com/apps → closebot"


def manifest_scopes(path: Path = MANIFEST) -> set[str]:
    return set(yaml.safe_load(path.read_text())["oauth_config"]["scopes"]["bot"])


def _error(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


def slack_checks(settings: Settings) -> list[Check]:
    if not settings.slack_bot_token:
        return [Check(SYSTEM, False, "not configured: SLACK_BOT_TOKEN is not set",
                      f"copy the Bot User OAuth Token from {APP_PAGE} → OAuth & Permissions "
                      "(README, “Connect to Slack”)"), *approver_checks(settings, None)]
    client = make_client(settings)
    try:
        auth = client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as error:
        return [Check(SYSTEM, False, f"Slack refused SLACK_BOT_TOKEN ({_error(error)})",
                      f"copy the Bot User OAuth Token (xoxb-…) from {APP_PAGE} → OAuth & "
                      "Permissions")]
    bot = f"@{auth.get('user') or 'closebot'}"
    checks = [Check(SYSTEM, True, f"bot token accepted (workspace {auth.get('team')}, bot user "
                                  f"{auth.get('user_id')})")]
    checks.append(
        Check(SYSTEM, True, "signing secret set (SLACK_SIGNING_SECRET)")
        if settings.slack_signing_secret else
        Check(SYSTEM, False, "SLACK_SIGNING_SECRET is not set: requests from Slack can't be "
                             "verified", f"copy it from {APP_PAGE} → Basic Information → "
                                         "Signing Secret"))
    checks.append(_scopes(_header(dict(auth.headers), "x-oauth-scopes")))
    for setting, channel in (("SLACK_ALERTS_CHANNEL", settings.slack_alerts_channel),
                             ("SLACK_APPROVALS_CHANNEL", settings.slack_approvals_channel),
                             ("SLACK_DIGEST_CHANNEL", settings.slack_digest_channel)):
        checks.append(_channel(client, setting, channel, bot))
    return checks + approver_checks(settings, client)


def _scopes(header: str | None) -> Check:
    wanted = manifest_scopes()
    if header is None:
        return Check(SYSTEM, False, "Slack did not say which scopes the bot token has",
                     "check SLACK_API_URL (unset for the real Slack)")
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing = sorted(wanted - granted)
    if missing:
        return Check(SYSTEM, False, f"the bot token lacks {', '.join(missing)}",
                     f"add {'it' if len(missing) == 1 else 'them'} under {APP_PAGE} → OAuth & "
                     "Permissions → Bot Token Scopes (or paste manifest.yml again), then "
                     "reinstall the app")
    return Check(SYSTEM, True, f"the bot token has every scope manifest.yml asks for "
                               f"({len(wanted)})")


def _find(client: WebClient, channel: str) -> dict[str, Any] | None:
    name = channel.lstrip("#")
    if channel[:1] in ("C", "G") and name.isupper():
        try:
            return dict(client.conversations_info(channel=name)["channel"])
        except SlackApiError as error:
            if error.response.get("error") == "channel_not_found":
                return None
            raise
    cursor = None
    while True:
        page = client.conversations_list(types="public_channel,private_channel", limit=1000,
                                         exclude_archived=False, cursor=cursor)
        for found in page["channels"]:
            if found["name"] == name:
                return dict(found)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def _channel(client: WebClient, setting: str, channel: str, bot: str) -> Check:
    try:
        found = _find(client, channel)
    except (SlackApiError, SlackClientError, OSError) as error:
        return Check(SYSTEM, False, f"can't look up {channel} ({setting}): {_error(error)}",
                     "add the channels:read and groups:read scopes (manifest.yml) and reinstall")
    if found is None:
        return Check(SYSTEM, False, f"no channel {channel} ({setting}) the bot can see",
                     f"create it and /invite {bot}, or fix {setting}")
    shown = f"#{found['name']}"
    if found.get("is_archived"):
        return Check(SYSTEM, False, f"{shown} ({setting}) is archived",
                     f"unarchive it or set {setting} to another channel")
    if not found.get("is_member"):
        return Check(SYSTEM, False, f"the bot is not in {shown} ({setting})",
                     f"invite it: /invite {bot} in {shown}")
    return Check(SYSTEM, True, f"the bot is in {shown} ({setting})")

