"""Slack's payload limits, enforced the way the Web API reports them.

Slack rejects rather than truncates, and says where: a block error comes back as
`{"ok": false, "error": "invalid_blocks", "errors": ["no more than 50 items allowed
[json-pointer:/blocks]"], "response_metadata": {"messages": ["[ERROR] ..."]}}`. Views fail with
`invalid_arguments` and the same pointer style under `/view/...`. The limits that bite a finance
bot:

- a message carries at most 50 blocks; a modal or App Home view at most 100;
- message `text` over 40,000 characters is `msg_too_long`;
- a section's `text` is at most 3,000 characters and its `fields` at most 10 items;
- an actions block holds at most 25 elements;
- a modal title is at most 24 characters, `private_metadata` at most 3,000 characters.
"""

from __future__ import annotations

import json
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_TITLE = 24
MAX_PRIVATE_METADATA = 3_000


class SlackError(Exception):
    """A Web API error answer: `{"ok": false, "error": ...}` plus any extra fields."""

    def __init__(self, error: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def pointer_error(error: str, problems: list[str]) -> SlackError:
    return SlackError(
        error,
        errors=problems,
        response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
    )


def decode_json_arg(value: Any, *, error: str) -> Any:
    """Form-encoded calls carry `blocks`/`view` as JSON strings; JSON calls carry them as-is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    return value


def block_problems(blocks: Any, *, limit: int, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        if block["type"] == "section":
            text = block.get("text")
            if isinstance(text, dict) and len(str(text.get("text", ""))) > MAX_SECTION_TEXT:
                problems.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters "
                    f"[json-pointer:{where}/text/text]"
                )
            if len(block.get("fields") or []) > MAX_SECTION_FIELDS:
                problems.append(
                    f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{where}/fields]"
                )
        if block["type"] == "actions" and len(block.get("elements") or []) > MAX_ACTIONS_ELEMENTS:
            problems.append(
                f"no more than {MAX_ACTIONS_ELEMENTS} items allowed [json-pointer:{where}/elements]"
            )
    return problems


def check_message(args: dict[str, Any], *, require_content: bool = True) -> dict[str, Any]:
    """Validate text/blocks/attachments of a chat.* call; returns them decoded."""
    text = args.get("text") or ""
    blocks = decode_json_arg(args.get("blocks"), error="invalid_blocks_format")
    attachments = decode_json_arg(args.get("attachments"), error="invalid_attachments")
    if require_content and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if blocks is not None:
        problems = block_problems(blocks, limit=MAX_MESSAGE_BLOCKS, pointer="/blocks")
        if problems:
            raise pointer_error("invalid_blocks", problems)
    return {"text": text, "blocks": blocks or [], "attachments": attachments or []}


def check_view(raw: Any, *, allowed_types: tuple[str, ...]) -> dict[str, Any]:
    view = decode_json_arg(raw, error="invalid_arguments")
    if not isinstance(view, dict):
        raise pointer_error("invalid_arguments", ["must be an object [json-pointer:/view]"])
    problems: list[str] = []
    if view.get("type") not in allowed_types:
        problems.append(f"must be one of {list(allowed_types)} [json-pointer:/view/type]")
    problems += block_problems(view.get("blocks"), limit=MAX_VIEW_BLOCKS, pointer="/view/blocks")
    if view.get("type") == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or not title.get("text"):
            problems.append("missing required field: title [json-pointer:/view/title]")
        elif len(title["text"]) > MAX_TITLE:
            problems.append(
                f"must be less than {MAX_TITLE + 1} characters [json-pointer:/view/title/text]"
            )
    if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
        problems.append(
            f"must be less than {MAX_PRIVATE_METADATA + 1} characters "
            "[json-pointer:/view/private_metadata]"
        )
    if problems:
        raise pointer_error("invalid_arguments", problems)
    return view
