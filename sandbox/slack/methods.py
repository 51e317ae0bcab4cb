"""The Web API methods the recorder answers, each returning Slack's success shape.

Every handler takes the workspace and the call's merged arguments and returns the JSON body, or
raises `SlackError` with the error code Slack documents for that method.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from typing import Any

from sandbox.slack import files
from sandbox.slack.limits import SlackError, check_message, check_view
from sandbox.slack.workspace import TEAM_DOMAIN, Workspace

Handler = Callable[[Workspace, dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def _message(ws: Workspace, channel: str, ts: str) -> dict[str, Any]:
    found = ws.messages.get((channel, str(ts)))
    if found is None:
        raise SlackError("message_not_found")
    return found


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return files.complete(ws, args)


@method("auth.test")
def auth_test(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": "closebot test",
        "user": "closebot",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    content = check_message(args)
    channel = ws.resolve_post_channel(args["channel"])
    ts = ws.next_ts()
    message = ws.bot_message(ts, content)
    if args.get("thread_ts"):
        message["thread_ts"] = str(args["thread_ts"])
    ws.messages[(channel, ts)] = message
    return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}


@method("chat.update")
def chat_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = _message(ws, args["channel"], args["ts"])
    content = check_message(args)
    # Slack keeps the previous blocks/attachments when the update leaves them out.
    if "text" in args:
        message["text"] = content["text"]
    if "blocks" in args:
        message["blocks"] = content["blocks"]
    if "attachments" in args:
        message["attachments"] = content["attachments"]
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    return {
        "ok": True,
        "channel": args["channel"],
        "ts": message["ts"],
        "text": message["text"],
        "message": copy.deepcopy(message),
    }


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    content = check_message(args)
    ts = ws.next_ts()
    # Recorded with the recipient as `user`, as chat.postEphemeral names it.
    ws.ephemerals.append(
        {**ws.bot_message(ts, content), "channel": args["channel"], "user": args["user"]}
    )
    return {"ok": True, "message_ts": ts}


@method("chat.delete")
def chat_delete(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _message(ws, args["channel"], args["ts"])
    del ws.messages[(args["channel"], str(args["ts"]))]
    return {"ok": True, "channel": args["channel"], "ts": str(args["ts"])}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    _message(ws, args["channel"], args["message_ts"])
    permalink = ws.permalink(args["channel"], str(args["message_ts"]))
    return {"ok": True, "channel": args["channel"], "permalink": permalink}


@method("reactions.add")
def reactions_add(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    message = _message(ws, args["channel"], args["timestamp"])
    name = str(args["name"]).strip(":")
    reactions = message.setdefault("reactions", [])
    for reaction in reactions:
        if reaction["name"] == name:
            if ws.bot_user_id in reaction["users"]:
                raise SlackError("already_reacted")
            reaction["users"].append(ws.bot_user_id)
            reaction["count"] += 1
            return {"ok": True}
    reactions.append({"name": name, "users": [ws.bot_user_id], "count": 1})
    return {"ok": True}


@method("conversations.open")
def conversations_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    users = args.get("users") or []
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if not users:
        if not args.get("channel"):
            raise SlackError("users_list_not_supplied")
        if args["channel"] not in ws.open_dms:
            raise SlackError("channel_not_found")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": args["channel"]}}
    for user_id in users:
        if user_id not in ws.users:
            raise SlackError("user_not_found")
    if len(users) > 8:
        raise SlackError("too_many_users")
    others = [u for u in users if u != ws.bot_user_id] or [ws.bot_user_id]
    if len(others) == 1:
        channel: dict[str, Any] = {"id": ws.dm_id(others[0])}
        if str(args.get("return_im", "")).lower() in ("1", "true"):
            channel |= {"created": int(time.time()), "is_im": True, "user": others[0]}
    else:
        channel = {"id": "G" + "".join(sorted(u[1:4] for u in others)), "is_mpim": True}
    body: dict[str, Any] = {"ok": True, "channel": channel}
    if channel["id"] in ws.open_dms:
        body |= {"no_op": True, "already_open": True}
    ws.open_dms.add(channel["id"])
    return body


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = ws.user_by_email(str(args["email"]))
    if user is None:
        raise SlackError("users_not_found")
    return {"ok": True, "user": copy.deepcopy(user)}


@method("users.info")
def users_info(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    user = ws.users.get(str(args["user"]))
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": copy.deepcopy(user)}


@method("usergroups.users.list")
def usergroups_users_list(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    members = ws.usergroups.get(str(args["usergroup"]))
    if members is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(members)}


def _new_view(ws: Workspace, view: dict[str, Any], *, view_id: str | None = None) -> dict[str, Any]:
    view_id = view_id or ws.next_id("V")
    external_id = view.get("external_id", "")
    if external_id and any(
        v["external_id"] == external_id and v["id"] != view_id for v in ws.views.values()
    ):
        raise SlackError("duplicate_external_id")
    stored = {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": view.get("title"),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": ws.app_id,
        "external_id": external_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    if view_id in ws.views:
        stored["root_view_id"] = ws.views[view_id]["root_view_id"]
    ws.views[view_id] = stored
    return {"ok": True, "view": copy.deepcopy(stored)}


def _check_hash(current: dict[str, Any], args: dict[str, Any]) -> None:
    # The hash guards against two racing updates; a stale hash is rejected, none is accepted.
    if args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")


@method("views.open")
def views_open(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return _new_view(ws, check_view(args["view"], allowed_types=("modal",)))


@method("views.push")
def views_push(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    return _new_view(ws, check_view(args["view"], allowed_types=("modal",)))


@method("views.update")
def views_update(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = check_view(args.get("view"), allowed_types=("modal", "home"))
    if args.get("view_id"):
        current = ws.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        matches = [v for v in ws.views.values() if v["external_id"] == args["external_id"]]
        current = matches[0] if matches else None
    else:
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] either view_id or external_id is required"]},
        )
    if current is None:
        raise SlackError("not_found")
    _check_hash(current, args)
    return _new_view(ws, view, view_id=current["id"])


@method("views.publish")
def views_publish(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    view = check_view(args["view"], allowed_types=("home",))
    user_id = str(args["user_id"])
    if user_id not in ws.users:
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] user not found [json-pointer:/user_id]"]},
        )
    existing = ws.homes.get(user_id)
    if existing:
        _check_hash(ws.views[existing], args)
    published = _new_view(ws, view, view_id=existing)
    ws.homes[user_id] = published["view"]["id"]
    return published
