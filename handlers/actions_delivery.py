""""Mark delivered" / "Undo delivery" on a deal's `/deal-trace` answer: the buttons for each
point-in-time obligation not recognized yet (for a milestone one, its next milestone), and
what a click does (`sync.ops.deliveries` decides who may; the books record and audit it)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import button, section
from handlers.context import Surface, surface
from handlers.ids import Action
from handlers.requests import Click
from sync.money import format_money
from sync.ops import deliveries
from sync.ops.surface import UserError
from sync.ports_revenue import Delivered

SHOWN = 10


def delivery_blocks(s: Surface, opportunity_id: str | None) -> list[Block]:
    """A section per obligation awaiting (or delivered, not recognized), with its button."""
    if s.deliveries is None or not opportunity_id:
        return []
    return [_block(opportunity_id, d) for d in s.deliveries.deliverables(opportunity_id)[:SHOWN]]


def _block(opportunity_id: str, d: Delivered) -> Block:
    amount = format_money(d.amount_minor, d.currency)
    value = json.dumps([opportunity_id, d.product])
    if d.on is None:
        text = strings.DELIVERY_AWAITING.format(product=d.label, amount=amount)
        return section(text, accessory=button(strings.DELIVERY_MARK, Action.DELIVER, value,
                                              style="primary"))
    text = strings.DELIVERY_PENDING.format(product=d.label, amount=amount, on=d.on)
    return section(text, accessory=button(strings.DELIVERY_UNDO, Action.UNDO_DELIVERY, value))


def _click(body: dict[str, Any], context: Any, respond: Any, *, undo: bool) -> None:
    click, s = Click.parse(body), surface(context)
    try:
        opportunity_id, product = (str(v) for v in json.loads(click.value))
    except (ValueError, TypeError):
        raise UserError("That button is out of date: run /deal-trace again.") from None
    if s.deliveries is None:
        raise UserError("Deliveries can't be marked here: closebot has no revenue schedules.")
    done = deliveries.mark(s.deps, s.deliveries, opportunity_id=opportunity_id,
                           product=product, user=click.user, configured=s.delivery_markers,
                           today=s.today(), undo=undo)
    amount = format_money(done.amount_minor, done.currency)
    said = (strings.DELIVERED.format(product=done.label, on=done.on, user=click.user,
                                     amount=amount) if done.on else
            strings.DELIVERY_UNDONE.format(product=done.label, user=click.user, amount=amount))
    respond(text=said, response_type="ephemeral", replace_original=False)


def deliver(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    _click(body, context, respond, undo=False)


def undo_delivery(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
    ack()
    _click(body, context, respond, undo=True)
