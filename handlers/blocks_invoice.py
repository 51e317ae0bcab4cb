"""`/invoice-status` answers."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import actions, button, context, divider, message, section
from handlers.ids import Action
from handlers.markup import escape
from sync.ops.queries import DealState, InvoiceAnswer, InvoiceView


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": escape(text), "blocks": blocks or []}


def invoice_answer(answer: InvoiceAnswer, *, cmd: str) -> dict[str, Any]:
    query = answer.query
    if answer.invoices:
        blocks: list[Block] = []
        for inv in answer.invoices:
            blocks += _invoice(inv)
        if answer.more:
            blocks.append(context(strings.INVOICE_MORE.format(n=len(answer.invoices))))
        text = strings.INVOICE_FOUND.format(
            invoices=strings.count(len(answer.invoices), "invoice"), query=query)
        return ephemeral(text, message(blocks))
    if answer.customers:
        text = strings.INVOICE_PICK.format(query=query)
        buttons = [button(name[:75], Action.PICK_CUSTOMER, key) for key, name in answer.customers]
        return ephemeral(text, message([section(text), actions(*buttons, block_id="pick")]))
    if answer.deals:
        return _deals_without_invoices(answer.deals, query)
    text = strings.INVOICE_NONE.format(query=query, cmd=cmd)
    return ephemeral(text, message([section(text)]))


def _deals_without_invoices(deals: list[DealState], query: str) -> dict[str, Any]:
    lines = []
    for deal in deals:
        template = strings.DEAL_NO_INVOICE.get(deal.status, strings.DEAL_NO_INVOICE["pending"])
        reason = deal.reason or strings.DEAL_NO_REASON.get(deal.status, "")
        lines.append(template.format(deal=deal.name,
                                     customer=deal.customer or "-",
                                     reason=reason))
    if len(lines) == 1:
        return ephemeral(lines[0], message([section(lines[0])]))
    text = strings.DEALS_NO_INVOICE.format(query=query)
    return ephemeral(text, message([section(text), *[section(line) for line in lines]]))


def _invoice(inv: InvoiceView) -> list[Block]:
    status = inv.status + (strings.DAYS_LATE.format(days=strings.count(inv.days_past_due, "day"))
                           if inv.days_past_due else "")
    values = {"customer": inv.customer, "total": inv.total, "status": status,
              "issued": inv.issued_on or "-", "due": inv.due_on or "-", "paid": inv.paid,
              "outstanding": inv.outstanding}
    links = [button(f"Open in {label}", Action.LINK, url=url) for label, url in inv.links.items()]
    blocks: list[Block] = [
        section(f"*Invoice {inv.number}* · `{inv.billing_id}`",
                fields=[f.format(**values) for f in strings.INVOICE_FIELDS]),
    ]
    if links:
        blocks.append(actions(*links))
    blocks.append(divider())
    return blocks
