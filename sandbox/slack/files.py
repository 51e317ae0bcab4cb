"""Slack's external file upload, as `files_upload_v2` drives it and Slack documents it:

1. `files.getUploadURLExternal` (`filename`, `length` in bytes; scope `files:write`) answers an
   `upload_url` and a `file_id`;
2. the bytes are POSTed to that URL (raw or as a multipart form), answered `200 OK - <length>`;
3. `files.completeUploadExternal` (`files`: a JSON array of `{id, title}`; `channel_id`,
   `initial_comment`, `thread_ts`) shares them, answering the file objects. A file never
   uploaded, or completed twice, is `file_not_found`; a channel the bot isn't in is
   `not_in_channel`, as Slack answers a bot.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.slack.limits import SlackError
from sandbox.slack.workspace import Workspace


def get_upload_url(ws: Workspace, args: dict[str, Any], base_url: str) -> dict[str, Any]:
    try:
        length = int(args["length"])
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments") from None
    if length <= 0:
        raise SlackError("invalid_arguments")
    file_id = ws.next_id("F")
    ws.files[file_id] = {"id": file_id, "name": str(args["filename"]), "length": length,
                         "alt_txt": args.get("alt_txt"), "data": None, "completed": False}
    return {"ok": True, "upload_url": f"{base_url}/upload/v1/{file_id}", "file_id": file_id}


def receive(ws: Workspace, file_id: str, body: bytes, content_type: str) -> tuple[int, str]:
    """Step 2. A multipart form carries the bytes in its one file part."""
    entry = ws.files.get(file_id)
    if entry is None or entry["completed"]:
        return 404, "file_not_found"
    data = _multipart_file(body, content_type) if "multipart/form-data" in content_type else body
    entry["data"] = data
    return 200, f"OK - {len(data)}"


def complete(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    try:
        listed = json.loads(args["files"]) if isinstance(args["files"], str) else args["files"]
        wanted = [(str(f["id"]), f.get("title")) for f in listed]
    except (TypeError, ValueError, KeyError):
        raise SlackError("invalid_arguments") from None
    channel = args.get("channel_id")
    if channel:
        known = ws.channels.get(channel)
        if known is None:
            raise SlackError("channel_not_found")
        if ws.bot_user_id not in known["members"]:
            raise SlackError("not_in_channel")
    done = []
    for file_id, _ in wanted:
        entry = ws.files.get(file_id)
        if entry is None or entry["completed"] or entry["data"] is None:
            raise SlackError("file_not_found")
        if len(entry["data"]) != entry["length"]:
            raise SlackError("file_upload_size_mismatch")
    for file_id, title in wanted:
        entry = ws.files[file_id]
        entry.update(completed=True, title=title or entry["name"], channel=channel,
                     initial_comment=args.get("initial_comment"),
                     thread_ts=args.get("thread_ts"))
        done.append({"id": file_id, "title": entry["title"]})
    return {"ok": True, "files": done}


def _multipart_file(body: bytes, content_type: str) -> bytes:
    boundary = content_type.split("boundary=", 1)[-1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, rest = part.partition(b"\r\n\r\n")
        if b"filename=" in head:
            return rest.removesuffix(b"\r\n")
    return b""
