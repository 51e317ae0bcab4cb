"""Failed-sync alerts, grouped alerts, owner DMs, the daily digest and the App Home."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import (
    actions,
    button,
    context,
    divider,
    header,
    outgoing,
    section,
    view_blocks,
)
from handlers.blocks_cards import card_blocks
from handlers.blocks_tieout import tieout_blocks
from handlers.ids import Action
from handlers.markup import mention, mrkdwn
from sync.ops.alerts import Alert, GroupAlert
from sync.ops.digest import Digest

Message = tuple[str, list[dict[str, Any]]]


def alert(a: Alert) -> Message:
    title = strings.ALERT_TITLE.get(a.state, "{reason}").format(reason=a.reason)
    facts = [f"*Deal*\n{a.deal or '-'}", f"*Customer*\n{a.customer or '-'}",
             f"*System*\n{a.system}", f"*Attempts*\n{a.attempts}"]
    blocks: list[Block] = [section(title, fields=facts)]
    if a.fields:
        blocks.append(section("*Fix in Salesforce:* "
                              + ", ".join(f for f in a.fields)))
    if a.last_error and a.state == "open":
        blocks.append(context(f"Last error: {strings.shorten(a.last_error, 500)}"))
    if a.state == "open":
        blocks.append(context(a.hint))
        row = [button(strings.RETRY, Action.RETRY, str(a.id), style="primary"),
               button(strings.DISMISS, Action.DISMISS, str(a.id))]
        if a.link:
            row.append(button("Open in Salesforce", Action.LINK, url=a.link))
        blocks.append(actions(*row))
    else:
        by = mention(a.resolved_by) if a.resolved_by and a.resolved_by != "closebot" else None
        blocks.append(context(mrkdwn("{state} by {by}: {why}" if by else "{state}: {why}",
                                     state=a.state.capitalize(), by=by,
                                     why=a.resolution or "")))
    return outgoing(title, blocks)


def group_alert(g: GroupAlert) -> Message:
    if g.state != "open":
        text = strings.GROUP_RECOVERED.format(cause=g.cause)
        return outgoing(text, [section(text)])
    when = f"{g.next_retry:%H:%M} UTC" if g.next_retry else "soon"
    text = strings.GROUP_ALERT.format(system=g.system, deals=strings.count(g.count, "deal"),
                                      next=when)
    return outgoing(text, [section(f"*{text}*"),
                           context(f"Cause: {strings.shorten(g.cause, 500)}"),
                           context("Deals: " + ", ".join(f"`{d}`" for d in g.deals))])


def owner_dm(a: Alert) -> Message:
    if a.state != "open":
        text = strings.ALERT_DM_FIXED.format(deal=a.deal or "?")
        return outgoing(text, [section(text)])
    fields = ", ".join(a.fields) or "see the alert"
    text = strings.ALERT_DM.format(deal=a.deal or "?", fields=fields)
    blocks: list[Block] = [section(text), context(a.reason)]
    if a.link:
        blocks.append(actions(button("Open in Salesforce", Action.LINK, url=a.link)))
    return outgoing(text, blocks)


def _numbers(d: Digest) -> list[Block]:
    overdue = f"{d.overdue}" + (f" ({', '.join(d.overdue_amounts)})" if d.overdue_amounts else "")
    return [section("", fields=[f"*Synced (24 h)*\n{d.synced}", f"*Failed (24 h)*\n{d.failed}",
                                f"*Awaiting approval*\n{d.awaiting_approval}",
                                f"*Open exceptions*\n{d.open_exceptions}",
                                f"*Invoices overdue*\n{overdue}"])]


def digest(d: Digest) -> Message:
    title = strings.DIGEST_TITLE.format(day=d.day.isoformat())
    return outgoing(title, [header(title), *_numbers(d), *tieout_blocks(d.tieout)])


def home_view(d: Digest) -> dict[str, Any]:
    blocks: list[Block] = [header(strings.HOME_TITLE), *_numbers(d), divider(),
                           header(strings.HOME_WAITING)]
    if not d.waiting_for_you:
        blocks.append(section(strings.HOME_NONE))
    for card in d.waiting_for_you:
        if len(blocks) > 80:
            break
        blocks += [*card_blocks(card), divider()]
    return {"type": "home", "blocks": view_blocks(blocks)}
