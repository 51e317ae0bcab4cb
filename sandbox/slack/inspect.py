"""The recorder's own endpoints, outside Slack's `/api/`: for a person (or `closebot sandbox
messages`) in another process to see what the app posted, and to add people to the workspace.

- `GET /sandbox/messages`: every `chat.postMessage` and `chat.update` call in order, with the
  channel and ts Slack answered with (a post to a user lands in their `D…` DM) and whether it
  was accepted.
- `POST /sandbox/users` with `{"users": [{"id": "U…", "email": "…", "name": "…"}]}`: people
  `users.lookupByEmail` and `users.info` then find, as if they had joined the workspace.
"""

from __future__ import annotations

import json
from typing import Any

MESSAGE_METHODS = ("chat.postMessage", "chat.update")


def posted_messages(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        if call["method"] not in MESSAGE_METHODS:
            continue
        args, answer = call.get("args") or {}, call.get("response") or {}
        out.append({
            "method": call["method"],
            "channel": answer.get("channel") or args.get("channel"),
            "ts": answer.get("ts") or args.get("ts"),
            "thread_ts": args.get("thread_ts"),
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "ok": bool(answer.get("ok")),
            "error": answer.get("error"),
        })
    return out


def parse_users(body: bytes) -> list[tuple[str, str, str]] | None:
    """(id, email, name) for each person in a `/sandbox/users` body, or None if malformed."""
    try:
        users = json.loads(body or b"null")["users"]
    except (ValueError, KeyError, TypeError):
        return None
    found = []
    for user in users if isinstance(users, list) else [None]:
        if not isinstance(user, dict):
            return None
        user_id, email, name = user.get("id"), user.get("email"), user.get("name")
        if not all(isinstance(v, str) and v for v in (user_id, email, name)):
            return None
        if str(user_id)[:1] not in ("U", "W"):
            return None
        found.append((str(user_id), str(email), str(name)))
    return found
