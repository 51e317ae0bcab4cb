"""A chart answered with a slash command, uploaded to the channel the command came from with
`files_upload_v2` (Slack's external upload). Outside a channel closebot is in, the person is
told how to get it instead of the command failing."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from handlers import strings
from handlers.blocks_invoice import ephemeral


def upload_chart(client: Any, respond: Any, *, channel: str, png: bytes, filename: str,
                 title: str, what: str) -> None:
    try:
        client.files_upload_v2(channel=channel, file=png, filename=filename, title=title,
                               initial_comment=title)
    except SlackApiError as error:
        if error.response.get("error") not in ("not_in_channel", "channel_not_found"):
            raise
        respond(**ephemeral(strings.CHART_NOT_IN_CHANNEL.format(what=what)))
