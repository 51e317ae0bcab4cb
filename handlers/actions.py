"""Buttons: approve / reject on approval cards, retry / dismiss on alerts, pick-one lists."""

from __future__ import annotations

from typing import Any

from handlers import actions_delivery, strings
from handlers.blocks_invoice import invoice_answer
from handlers.blocks_modals import dismiss_modal, reject_modal
from handlers.blocks_status import trace_message
from handlers.context import surface
from handlers.ids import Action, Command
from handlers.requests import Click, int_value
from sync.ops import alerts, approvals, credits, month_end, queries


def approve(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    click, s = Click.parse(body), surface(context)
    ref = approvals.ApprovalRef.decode(click.value)
    decided = approvals.decide(s.deps, ref, user=click.user, approve=True)
    if decided.status == "pending":
        respond(text=strings.FIRST_APPROVAL, response_type="ephemeral", replace_original=False)


def approve_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    s = surface(context)
    ref = approvals.ApprovalRef.decode(Click.parse(body).value)
    if s.rt is not None:
        credits.apply(s.rt, s.deps, ref.id)
    if s.closes is not None:  # a close card's second approval closes the period now
        month_end.apply_approved(s.deps, s.closes, today=s.today())
    s.flush()


def reject(ack: Any, body: dict[str, Any], context: Any, client: Any) -> None:
    ack()
    click, s = Click.parse(body), surface(context)
    ref = approvals.ApprovalRef.decode(click.value)
    approvals.may_decide(s.deps, ref, user=click.user)
    client.views_open(trigger_id=click.trigger_id, view=reject_modal(ref.encode()))


def retry(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    click, s = Click.parse(body), surface(context)
    alerts.retry(s.deps, int_value(click.value), user=click.user)
    respond(text=strings.RETRY_QUEUED, response_type="ephemeral", replace_original=False)


def retry_after(body: dict[str, Any], respond: Any, context: Any, client: Any) -> None:
    surface(context).after_retry()


def dismiss(ack: Any, body: dict[str, Any], context: Any, client: Any) -> None:
    ack()
    click = Click.parse(body)
    alerts.authorize(surface(context).deps, click.user, verb="dismiss")  # before the form
    client.views_open(trigger_id=click.trigger_id, view=dismiss_modal(int_value(click.value)))


def pick_customer(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    click, s = Click.parse(body), surface(context)
    answer = queries.read(s.deps.sessions, queries.invoices_of, name_key=click.value,
                          links=s.deps.links, today=s.today())
    respond(replace_original=True, **invoice_answer(answer,
                                                    cmd=s.names[Command.INVOICE_STATUS]))


def pick_deal(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    click, s = Click.parse(body), surface(context)
    answer = queries.read(s.deps.sessions, queries.find_trace, query=click.value, erp=s.deps.erp)
    respond(replace_original=True, **trace_message(
        answer, cmd=s.names[Command.DEAL_TRACE],
        extra=actions_delivery.delivery_blocks(s, answer.opportunity_id)))


def link(ack: Any) -> None:
    ack()


ACTIONS = {
    Action.APPROVE: (approve, [approve_after]),
    Action.REJECT: (reject, []),
    Action.RETRY: (retry, [retry_after]),
    Action.DISMISS: (dismiss, []),
    Action.PICK_CUSTOMER: (pick_customer, []),
    Action.PICK_DEAL: (pick_deal, []),
    Action.LINK: (link, []),
    Action.DELIVER: (actions_delivery.deliver, []),
    Action.UNDO_DELIVERY: (actions_delivery.undo_delivery, []),
}
