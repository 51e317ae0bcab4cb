"""`/revenue [month]`: the waterfall and RPO answered to the person, its chart uploaded to the
channel. The waterfall is read from the embedded ledger's revenue schedules."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers import strings
from handlers.blocks_invoice import ephemeral
from handlers.blocks_revenue import revenue_message
from handlers.chart_revenue import waterfall_chart
from handlers.context import Surface, surface
from handlers.requests import SlashCommand
from handlers.uploads import upload_chart
from sync.ledger.waterfall import waterfall
from sync.ops.queries import read

ERP_NAMES = {"netsuite": "NetSuite", "intacct": "Sage Intacct"}


def revenue(ack: Any, body: dict[str, Any], context: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if s.deps.erp != "ledger":
        erp = ERP_NAMES.get(s.deps.erp, s.deps.erp)
        return ack(ephemeral(strings.REVENUE_NOT_LEDGER.format(erp=erp)))
    as_of = _as_of(cmd, s)
    if isinstance(as_of, str):
        return ack(ephemeral(as_of))
    ack()  # the schedules are read after the ack: a large book takes longer than 3 seconds


def revenue_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    as_of = _as_of(cmd, s)
    if s.deps.erp != "ledger" or isinstance(as_of, str):
        return
    found = read(s.deps.sessions, waterfall, as_of=as_of)
    respond(**revenue_message(found))
    if found.rows:
        upload_chart(client, respond, channel=cmd.channel_id, png=waterfall_chart(found),
                     filename=f"revenue-waterfall-{found.as_of}.png",
                     title=strings.REVENUE_TITLE.format(as_of=found.as_of),
                     what="waterfall chart")


def _as_of(cmd: SlashCommand, s: Surface) -> date | str:
    """Today, or the first day of a month still to come; a refusal in words otherwise. A month
    gone by is refused: the schedules say what is left to recognize now, not then."""
    today, word = s.today(), cmd.text
    if not word:
        return today
    try:
        first = date.fromisoformat(f"{word}-01")
    except ValueError:
        return strings.REVENUE_USAGE.format(cmd=cmd.command)
    current = f"{today:%Y-%m}"
    if word < current:
        return strings.REVENUE_PAST.format(period=word, current=current)
    return today if word == current else first
