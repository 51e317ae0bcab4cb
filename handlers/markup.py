"""The one place text becomes Slack markup.

Slack reads `&`, `<` and `>` as control characters wherever it renders text, the top-level
`text` that drives notifications included: `<!channel>`, `<@U…>`, `<#C…>` and `<http…|…>` are
mentions and links. Deal, account and product names come from Salesforce, reasons and queries
from people typing, so anyone who can edit a deal could otherwise ping a whole channel. Slack's
"Escaping text" rule is to replace exactly those three characters with `&amp;`, `&lt;` and
`&gt;` (and nothing else: other entities are shown literally).

Everything that leaves for Slack goes through `escape` by default (the Block Kit helpers in
`handlers.blocks` call it on every text they are given); only markup closebot writes itself is
marked `Mrkdwn` and passes through, with its inserted values escaped by `mrkdwn()`.
"""

from __future__ import annotations

import re
from typing import Any

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")
_LONGEST_ENTITY = len("&amp;")


class Mrkdwn(str):
    """Text that is already Slack markup: closebot's own, with every inserted value escaped."""

    __slots__ = ()


def escape(value: object) -> Mrkdwn:
    """`value` as Slack shows it literally; markup that is already `Mrkdwn` is left alone."""
    if isinstance(value, Mrkdwn):
        return value
    text = str(value)
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return Mrkdwn(text)


def mrkdwn(template: str, /, **values: Any) -> Mrkdwn:
    """Fill closebot's own `template` (trusted markup) with `values`, escaping each text value.
    Numbers and dates keep their format specs (`{at:%H:%M}`)."""
    safe = {k: escape(v) if isinstance(v, str) else v for k, v in values.items()}
    return Mrkdwn(template.format(**safe))


def mention(user_id: str | None) -> Mrkdwn:
    """A user mention, only for something shaped like a Slack user ID; anything else literal."""
    if user_id and _USER_ID.match(user_id):
        return Mrkdwn(f"<@{user_id}>")
    return escape(user_id or "someone")


def group_mention(group_id: str) -> Mrkdwn:
    if _GROUP_ID.match(group_id):
        return Mrkdwn(f"<!subteam^{group_id}>")
    return escape(group_id)


def clip(text: str, limit: int) -> Mrkdwn | str:
    """At most `limit` characters, ending in `…` when cut; never cuts an entity in half (a
    dangling `&am` would show as text, and `&lt` without its `;` might not be decoded)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - _LONGEST_ENTITY + 1))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    clipped = cut + "…"
    return Mrkdwn(clipped) if isinstance(text, Mrkdwn) else clipped
