"""Slash commands. Each: ack fast with the answer (or ack and answer after, when slow)."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers import actions_delivery, commands_aging, commands_revenue, strings
from handlers.blocks_dryrun import dry_run_message
from handlers.blocks_invoice import ephemeral, invoice_answer
from handlers.blocks_modals import credit_modal
from handlers.blocks_payout import payout_message
from handlers.blocks_status import help_message, status_message, trace_message
from handlers.context import surface
from handlers.ids import Command, Subcommand
from handlers.requests import CreditArgs, SlashCommand
from sync.errors import SyncError
from sync.ops import credits, dryrun, payouts, queries
from sync.ops.surface import UserError


def invoice_status(ack: Any, body: dict[str, Any], context: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if not cmd.text:
        return ack(ephemeral(strings.INVOICE_USAGE.format(cmd=cmd.command)))
    answer = queries.read(s.deps.sessions, queries.find_invoices, query=cmd.text,
                          links=s.deps.links, today=s.today(), erp=s.deps.erp)
    ack(invoice_answer(answer, cmd=cmd.command))


def sync_status(ack: Any, context: Any) -> None:
    s = surface(context)
    view = queries.read(s.deps.sessions, queries.sync_status, now=s.deps.now())
    ack(status_message(view))


def deal_trace(ack: Any, body: dict[str, Any]) -> None:
    cmd = SlashCommand.parse(body)
    if not cmd.text:
        return ack(ephemeral(strings.TRACE_USAGE.format(cmd=cmd.command)))
    ack()


def deal_trace_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if not cmd.text:
        return
    answer = queries.read(s.deps.sessions, queries.find_trace, query=cmd.text, erp=s.deps.erp,
                          crm=s.rt.crm if s.rt else None)
    respond(**trace_message(answer, cmd=cmd.command,
                            extra=actions_delivery.delivery_blocks(s, answer.opportunity_id)))


def credit(ack: Any, body: dict[str, Any], context: Any, client: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if not cmd.text:
        ack()
        client.views_open(trigger_id=cmd.trigger_id, view=credit_modal(cmd.channel_id))
        return
    if cmd.text.lower() == "help":
        return ack(ephemeral(strings.CREDIT_USAGE.format(cmd=cmd.command)))
    args = CreditArgs.from_text(cmd.text)
    credits.request(s.deps, invoice=args.invoice, amount=args.amount, reason=args.reason,
                    user=cmd.user_id)
    ack(ephemeral(strings.CREDIT_REQUESTED.format(channel=s.deps.channels.approvals)))


def flush_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    surface(context).flush()


def closebot(ack: Any, body: dict[str, Any], context: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    word, _, rest = cmd.text.partition(" ")
    if word.lower() == Subcommand.DRY_RUN:
        if not rest.strip():
            return ack(ephemeral(strings.DRY_RUN_USAGE.format(cmd=cmd.command)))
        if s.rt is None:
            return ack(ephemeral(strings.DRY_RUN_NOT_READY))
        return ack(ephemeral(strings.DRY_RUN_WORKING.format(query=rest.strip())))
    unknown = cmd.text if cmd.text.lower() not in ("", "help") else None
    ack(help_message(s.names, unknown=unknown))


def closebot_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    """The dry run itself, after the ack: it reads Salesforce, Stripe and the ERP."""
    cmd, s = SlashCommand.parse(body), surface(context)
    word, _, rest = cmd.text.partition(" ")
    if word.lower() != Subcommand.DRY_RUN or not rest.strip() or s.rt is None:
        return
    try:
        opportunity = dryrun.find_deal(s.rt, rest)
        result = dryrun.dry_run(s.rt, opportunity_ids=[opportunity], source=s.deps.sessions)
    except SyncError as error:  # a system could not be read: say which, in its own words
        raise UserError(f"{error.reason}. Nothing was changed.") from error
    respond(**dry_run_message(result, opportunity=opportunity))


def payout(ack: Any, body: dict[str, Any], context: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if not cmd.text or not (cmd.text.startswith("po_") or _is_date(cmd.text)):
        return ack(ephemeral(strings.PAYOUT_USAGE.format(cmd=cmd.command)))
    if s.payouts is None:
        return ack(ephemeral(strings.PAYOUT_NO_STRIPE))
    ack()  # Stripe is read after the ack: a payout's balance transactions take several pages


def payout_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    cmd, s = SlashCommand.parse(body), surface(context)
    if not cmd.text or s.payouts is None or not (cmd.text.startswith("po_")
                                                 or _is_date(cmd.text)):
        return
    respond(**payout_message(payouts.find_payouts(s.deps.sessions, s.payouts, cmd.text)))


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


COMMANDS = {
    Command.INVOICE_STATUS: (invoice_status, []),
    Command.SYNC_STATUS: (sync_status, []),
    Command.DEAL_TRACE: (deal_trace, [deal_trace_after]),
    Command.CREDIT: (credit, [flush_after]),
    Command.PAYOUT: (payout, [payout_after]),
    Command.AR_AGING: (commands_aging.aging, [commands_aging.aging_after]),
    Command.REVENUE: (commands_revenue.revenue, [commands_revenue.revenue_after]),
    Command.HELP: (closebot, [closebot_after]),
}
