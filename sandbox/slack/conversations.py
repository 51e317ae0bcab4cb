"""conversations.list, .info and .members: what the bot can see of channels and who is in them.

Shapes follow Slack's description: a conversation object with `is_member` for the caller,
`num_members` only with `include_num_members`, and cursor pagination (`response_metadata.
next_cursor`, empty on the last page; `limit` defaults to 100 and is capped at 1,000).
`types` takes `public_channel` (the default) and `private_channel`; the recorder has no DMs to
list. Importing this module registers the handlers.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from sandbox.slack.limits import SlackError
from sandbox.slack.methods import method
from sandbox.slack.workspace import Workspace

MAX_LIMIT = 1000
TYPES = {"public_channel", "private_channel", "im", "mpim"}


def _page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
    try:
        limit = int(args.get("limit") or 100)
        cursor = str(args.get("cursor") or "")
        start = int(base64.b64decode(cursor).decode().removeprefix("next:")) if cursor else 0
    except ValueError as exc:
        raise SlackError("invalid_cursor" if args.get("cursor") else "invalid_limit") from exc
    if limit < 1:
        raise SlackError("invalid_limit")
    end = start + min(limit, MAX_LIMIT)
    more = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], more


def _shown(ws: Workspace, channel: dict[str, Any], *, count: bool) -> dict[str, Any]:
    shown = {k: copy.deepcopy(v) for k, v in channel.items() if k != "members"}
    shown["is_member"] = ws.bot_user_id in channel["members"]
    if count:
        shown["num_members"] = len(channel["members"])
    return shown


def _visible(ws: Workspace, channel_id: str) -> dict[str, Any]:
    channel = ws.visible_channel(str(channel_id))
    if channel is None:
        raise SlackError("channel_not_found")
    return channel


@method("conversations.list")
def conversations_list(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    types = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
    if not types <= TYPES:
        raise SlackError("invalid_types")
    wanted = {"public_channel": False, "private_channel": True}
    found = [c for c in ws.channels.values()
             if any(c["is_private"] == wanted[t] for t in types if t in wanted)
             and ws.visible_channel(c["id"]) is not None
             and not (c["is_archived"] and str(args.get("exclude_archived")).lower()
                      in ("1", "true"))]
    items, more = _page(found, args)
    return {"ok": True, "channels": [_shown(ws, c, count=True) for c in items],
            "response_metadata": {"next_cursor": more}}


@method("conversations.info")
def conversations_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    channel = _visible(ws, args["channel"])
    count = str(args.get("include_num_members", "")).lower() in ("1", "true")
    return {"ok": True, "channel": _shown(ws, channel, count=count)}


@method("conversations.members")
def conversations_members(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    members, more = _page(list(_visible(ws, args["channel"])["members"]), args)
    return {"ok": True, "members": members, "response_metadata": {"next_cursor": more}}
