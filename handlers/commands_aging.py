"""`/ar-aging [customer]`: the aging answered to the person, and its chart uploaded to the
channel."""

from __future__ import annotations

from typing import Any

from handlers import strings
from handlers.blocks_aging import aging_message
from handlers.blocks_invoice import ephemeral
from handlers.chart_aging import aging_chart
from handlers.context import surface
from handlers.requests import SlashCommand
from handlers.uploads import upload_chart
from sync.ops.aging import ar_aging


def aging(ack: Any, body: dict[str, Any], context: Any) -> None:
    if surface(context).rt is None:
        return ack(ephemeral(strings.AGING_NO_ERP))
    ack()  # the ERP is read after the ack: NetSuite pages take longer than Slack's 3 seconds


def aging_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if s.rt is None:
        return
    found = ar_aging(s.rt.erp, s.today(), cmd.text.strip() or None)
    respond(**aging_message(found))
    if found.totals:
        upload_chart(client, respond, channel=cmd.channel_id, png=aging_chart(found),
                     filename=f"ar-aging-{found.as_of}.png",
                     title=strings.AGING_TITLE.format(as_of=found.as_of), what="aging chart")
