"""The state of the pretend workspace: people, groups, posted messages and open views.

Slack quirks this mirrors, because code written against it must survive the real thing:

- `ts` is both a message's timestamp and its primary key within a channel; it is a string of
  seconds and microseconds (`"1718000000.000100"`) and must be stored as a string.
- Posting to a user ID (`U…`) lands in the app's DM with that user and the answer names the DM
  (`D…`), not the user. `chat.update`, `chat.delete` and permalinks need that `D…` ID back; the
  user ID doesn't find the message. Store the channel Slack returns, never the one you sent.
- Ephemeral messages get a `message_ts` but are not stored in the channel, so they can't be
  updated, deleted or linked to.
- Channels are found by ID (`C…`, or `G…` for old private ones), never by name; a private
  channel the bot isn't in doesn't exist as far as the bot can tell (`channel_not_found`).
  The workspace starts with #general and the three channels closebot's docs ask for, with the
  bot invited to those three.
"""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

TEAM_DOMAIN = "closebot-test"
DEFAULT_CHANNELS = {"C0FINALERTS": "finance-alerts", "C0FINAPPROVALS": "finance-approvals",
                    "C0FINDIGEST": "finance-digest"}


class Workspace:
    """Mutable workspace state. Not locked itself: the recorder serialises calls around it."""

    def __init__(self, *, team_id: str, bot_user_id: str) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = "A" + bot_user_id[1:]
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.homes: dict[str, str] = {}
        self.open_dms: set[str] = set()
        self.files: dict[str, dict[str, Any]] = {}  # file_id → what was uploaded and shared
        self._last_us = 0
        self._ids = itertools.count(1)
        self.add_user(bot_user_id, email="", name="closebot", is_bot=True)
        self.channels: dict[str, dict[str, Any]] = {}
        self.add_channel("C0GENERAL", "general", members=[], general=True)
        for channel_id, name in DEFAULT_CHANNELS.items():
            self.add_channel(channel_id, name, members=[bot_user_id])

    def next_ts(self) -> str:
        # Real ts values come from the clock but never repeat within a channel.
        now_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        self._last_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08d}"

    def add_user(self, user_id: str, *, email: str, name: str, is_bot: bool = False) -> None:
        handle = name.lower().replace(" ", ".")
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": handle,
            "deleted": False,
            "real_name": name,
            "tz": "America/Los_Angeles",
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "profile": {
                "real_name": name,
                "display_name": handle,
                "email": email,
                "team": self.team_id,
                **({"bot_id": self.bot_id} if is_bot else {}),
            },
        }

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        for user in self.users.values():
            if wanted and user["profile"]["email"].lower() == wanted:
                return user
        return None

    @staticmethod
    def dm_id(user_id: str) -> str:
        return "D" + user_id[1:]

    def resolve_post_channel(self, channel: str) -> str:
        """Where a post to `channel` lands: user IDs become their DM, anything else is kept."""
        if channel[:1] in ("U", "W") and channel in self.users:
            self.open_dms.add(self.dm_id(channel))
            return self.dm_id(channel)
        return channel

    def bot_message(self, ts: str, content: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": content["text"],
            "blocks": content["blocks"],
        }
        if content["attachments"]:
            message["attachments"] = content["attachments"]
        return message

    def permalink(self, channel: str, ts: str) -> str:
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = self.messages[(channel, ts)].get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return link

    def snapshot_messages(self, channel: str | None) -> list[dict[str, Any]]:
        out = []
        for (chan, _ts), message in self.messages.items():
            if channel is None or chan == channel:
                out.append({"channel": chan, **copy.deepcopy(message)})
        return out

    def add_channel(self, channel_id: str, name: str, *, members: list[str],
                    private: bool = False, general: bool = False) -> None:
        self.channels[channel_id] = {
            "id": channel_id, "name": name, "name_normalized": name, "created": int(time.time()),
            "creator": self.bot_user_id, "is_channel": not private, "is_group": private,
            "is_im": False, "is_mpim": False, "is_private": private, "is_archived": False,
            "is_general": general, "is_shared": False, "is_org_shared": False,
            "is_ext_shared": False, "is_pending_ext_shared": False, "unlinked": 0,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [], "members": list(dict.fromkeys(members)),
        }

    def visible_channel(self, channel_id: str) -> dict[str, Any] | None:
        """The channel as the bot may see it: public ones always, private ones it is in."""
        channel = self.channels.get(channel_id)
        if channel is None or (channel["is_private"]
                               and self.bot_user_id not in channel["members"]):
            return None
        return channel
