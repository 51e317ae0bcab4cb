"""Slack markup: the three control characters escaped once, at the edges of what is shown."""

from __future__ import annotations

from handlers.blocks import button, header, section
from handlers.markup import Mrkdwn, clip, escape, mention, mrkdwn


def test_escape_is_slacks_three_entities_and_idempotent_on_markup() -> None:
    assert escape("<!channel> & <@U1> 'q' \"d\"") == "&lt;!channel&gt; &amp; &lt;@U1&gt; 'q' \"d\""
    once = escape("a < b")
    assert escape(once) == once and isinstance(once, Mrkdwn)


def test_templates_escape_values_but_not_their_own_markup() -> None:
    text = mrkdwn("{who} approved *{what}* at {at:%H:%M}", who=mention("UAPPROVE1"),
                  what="<!here> deal", at=__import__("datetime").datetime(2026, 1, 2, 3, 4))
    assert text == "<@UAPPROVE1> approved *&lt;!here&gt; deal* at 03:04"
    assert mention("<!channel>") == "&lt;!channel&gt;" and mention(None) == "someone"


def test_clipping_never_cuts_an_entity() -> None:
    clipped = clip(escape("x" * 8 + "<tail"), 11)
    assert clipped == "x" * 8 + "…" and len(clipped) <= 11
    assert clip("short", 10) == "short"


def test_every_block_helper_escapes_what_it_is_given() -> None:
    assert header("<!channel>").to_dict()["text"]["text"] == "&lt;!channel&gt;"
    assert section("*<!here>*").to_dict()["text"]["text"] == "*&lt;!here&gt;*"
    assert button("<@U1>", "a").to_dict()["text"]["text"] == "&lt;@U1&gt;"
    assert section(Mrkdwn("<@U1>")).to_dict()["text"]["text"] == "<@U1>"
