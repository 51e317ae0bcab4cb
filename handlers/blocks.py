"""Shared Block Kit helpers, built with `slack_sdk.models.blocks` and checked against Slack's
limits. slack_sdk validates single blocks but not the 50-blocks-per-message (100 per view)
limit, so `message()` and `view()` enforce those themselves.

Every text handed to these helpers is escaped (`handlers.markup`) unless it is `Mrkdwn`, so a
builder passes names and reasons as they are and marks only its own markup.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from handlers.markup import Mrkdwn, clip, escape

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000


class TooManyBlocks(ValueError):
    """A builder produced more blocks than Slack accepts."""


def shown(text: str, limit: int) -> str:
    """`text` escaped and within `limit`: what every helper below puts in front of people."""
    return clip(escape(text), limit)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=shown(text, MAX_HEADER_TEXT))


def section(text: str, *, fields: list[str] | None = None, accessory: Any = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=shown(text, MAX_SECTION_TEXT)) if text else None,
        fields=[MarkdownTextObject(text=shown(f, 2000)) for f in (fields or [])[:10]] or None,
        accessory=accessory,
    )


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=shown(t, 2000)) for t in texts[:10]])


def divider() -> DividerBlock:
    return DividerBlock()


def button(text: str, action_id: str, value: str = "", *, style: str | None = None,
           url: str | None = None) -> ButtonElement:
    return ButtonElement(text=shown(text, MAX_BUTTON_TEXT), action_id=action_id,
                         value=value[:MAX_VALUE] or None, style=style, url=url)


def actions(*elements: ButtonElement, block_id: str | None = None) -> ActionsBlock:
    """Slack wants action IDs unique within a block; repeats get a `:n` suffix, which the
    listeners match."""
    seen: set[str] = set()
    for n, element in enumerate(elements[:25]):
        if element.action_id in seen:
            element.action_id = f"{element.action_id}:{n}"
        seen.add(element.action_id or "")
    return ActionsBlock(elements=list(elements)[:25], block_id=block_id)


def message(blocks: list[Block]) -> list[dict[str, Any]]:
    """Validated dicts for a message, or TooManyBlocks."""
    return _checked(blocks, MAX_MESSAGE_BLOCKS)


def outgoing(text: str, blocks: list[Block]) -> tuple[Mrkdwn, list[dict[str, Any]]]:
    """A message as the outbox sends it: the notification `text`, escaped, and its blocks."""
    return escape(text), message(blocks)


def view_blocks(blocks: list[Block]) -> list[dict[str, Any]]:
    return _checked(blocks, MAX_VIEW_BLOCKS)


def _checked(blocks: list[Block], limit: int) -> list[dict[str, Any]]:
    if len(blocks) > limit:
        raise TooManyBlocks(f"{len(blocks)} blocks; Slack allows {limit}")
    return [b.to_dict() for b in blocks]
