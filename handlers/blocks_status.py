"""`/sync-status`, `/deal-trace` and `/closebot help` answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import actions, button, context, header, message, section
from handlers.blocks_invoice import ephemeral
from handlers.ids import Action, Command
from sync.ops.queries import StatusView, TraceAnswer


def help_message(names: dict[Command, str], *, unknown: str | None = None) -> dict[str, Any]:
    keys = {"invoice_status": names[Command.INVOICE_STATUS],
            "sync_status": names[Command.SYNC_STATUS], "deal_trace": names[Command.DEAL_TRACE],
            "credit": names[Command.CREDIT], "payout": names[Command.PAYOUT],
            "ar_aging": names[Command.AR_AGING], "revenue": names[Command.REVENUE],
            "help": names[Command.HELP]}
    lines = [f"• `{usage.format(**keys)}`: {what}" for usage, what in strings.HELP_LINES]
    blocks: list[Block] = [header(strings.HELP_TITLE)]
    if unknown:
        blocks.append(section(strings.UNKNOWN_SUBCOMMAND.format(text=unknown)))
    blocks.append(section("\n".join(lines)))
    return ephemeral(strings.HELP_TITLE, message(blocks))


def _ago(delta: timedelta | None) -> str:
    if delta is None:
        return "never"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def status_message(view: StatusView) -> dict[str, Any]:
    counts = [f"*{name.capitalize()}*\n{n}" for name, n in view.counts.items()]
    runs = "\n".join(f"{system}: {at:%Y-%m-%d %H:%M} UTC" if at else f"{system}: never"
                     for system, at in sorted(view.last_runs.items())) or "none yet"
    blocks: list[Block] = [
        header(strings.STATUS_TITLE),
        section("", fields=counts),
        section(strings.STATUS_RUNS.format(runs=runs)),
        context(strings.STATUS_LAG.format(lag=_ago(view.intake_lag))),
    ]
    if not view.exceptions:
        blocks.append(section(strings.STATUS_NO_EXCEPTIONS))
    for exc_id, reason in view.exceptions:
        blocks.append(section(f"⚠️ {reason}"))
        blocks.append(actions(button(strings.RETRY, Action.RETRY, str(exc_id), style="primary"),
                              button(strings.DISMISS, Action.DISMISS, str(exc_id))))
    if view.more_exceptions:
        blocks.append(context(strings.STATUS_MORE.format(
            more=strings.count(view.more_exceptions, "more open exception"))))
    return ephemeral(strings.STATUS_TITLE, message(blocks))


def trace_message(answer: TraceAnswer, *, cmd: str, extra: list[Block] | None = None
                  ) -> dict[str, Any]:
    """The deal's hops; `extra` (its deliveries to mark) below them."""
    query = answer.query
    if answer.choices:
        text = strings.TRACE_PICK.format(query=query)
        picks = [button(name[:75], Action.PICK_DEAL, opp) for opp, name in answer.choices]
        return ephemeral(text, message([section(text), actions(*picks)]))
    if answer.in_crm_only:
        names = ", ".join(f"{n} (`{o}`)" for o, n in answer.in_crm_only)
        text = strings.TRACE_CRM_ONLY.format(query=query, names=names)
        return ephemeral(text, message([section(text)]))
    if not answer.opportunity_id:
        text = strings.TRACE_NONE.format(query=query, cmd=cmd)
        return ephemeral(text, message([section(text)]))
    lines = []
    for hop in answer.hops[:40]:
        mark = strings.HOP_MARK.get(hop["state"], hop["state"])
        detail = f" · {hop['detail']}" if hop.get("detail") else ""
        lines.append(f"{mark} *{hop['hop']}*: `{hop['id'] or '-'}`{detail}")
    title = f"Chain of custody: {answer.name}"
    chunks = ["\n".join(lines[i:i + 10]) for i in range(0, len(lines), 10)]
    return ephemeral(title, message([header(title), *[section(c) for c in chunks],
                                     *(extra or [])]))
