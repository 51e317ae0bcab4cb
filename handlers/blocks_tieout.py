"""The digest's three-way tie-out: each currency's figures side by side, then the variances the
reconciliation found, each with the records on both sides."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from handlers import strings
from handlers.blocks import context, section
from handlers.markup import mrkdwn
from sync.money import format_money
from sync.ops.tieout import Tieout

SHOWN = 5  # variances spelled out; the reconciliation's alerts hold every one


def tieout_blocks(t: Tieout | None) -> list[Block]:
    if t is None:
        return [context(strings.TIEOUT_NONE)]
    blocks: list[Block] = []
    currencies = sorted(set(t.totals) | set(t.deposits))
    for cur in currencies:
        blocks.append(section(
            strings.TIEOUT_TITLE.format(currency=cur, at=t.at.strftime("%Y-%m-%d %H:%M UTC")),
            fields=_fields(t, cur)))
    blocks += _entities(t)
    for v in t.variances[:SHOWN]:
        records = ", ".join(v.get("records") or []) or v.get("opportunity_id") or "-"
        blocks.append(context(mrkdwn("⚠️ {reason} · records: {records}",
                                     reason=str(v.get("reason") or ""), records=records)))
    more = len(t.variances) - SHOWN + t.more
    if more > 0:
        blocks.append(context(strings.TIEOUT_MORE.format(more=more)))
    if not t.variances:
        blocks.append(context(strings.TIEOUT_AGREE))
    return blocks


def _fields(t: Tieout, cur: str) -> list[str]:
    got = t.totals.get(cur, {})

    def m(name: str) -> str:
        return format_money(int(got.get(name, 0)), cur)

    deposited, banked = t.deposits.get(cur, (0, 0))
    fields = [
        f"*Booked (Salesforce)*\n{m('booked')}",
        f"*Billed (Stripe)*\n{m('billed')} + {m('scheduled')} still to bill",
        f"*Invoiced (ERP)*\n{m('erp_invoiced')} · {m('erp_receivable')} receivable",
        f"*Deposits (ERP)*\n{format_money(deposited, cur)} · "
        f"{format_money(banked, cur)} matched in the bank",
    ]
    if "stripe_balance" in got:
        fields += [f"*Stripe balance*\n{m('stripe_balance')}",
                   f"*Stripe Clearing*\n{m('clearing')} + {m('clearing_to_book')} to book"]
    return fields


def _entities(t: Tieout) -> list[Block]:
    """One line per legal entity and currency, after the company's totals."""
    lines = []
    for entity, part in sorted(t.entities.items()):
        for cur, got in sorted((part.get("totals") or {}).items()):
            lines.append(context(mrkdwn(
                strings.TIEOUT_ENTITY, entity=entity, currency=cur,
                booked=format_money(int(got.get("booked", 0)), cur),
                billed=format_money(int(got.get("billed", 0)) + int(got.get("scheduled", 0)),
                                    cur),
                invoiced=format_money(int(got.get("erp_invoiced", 0)), cur),
                variances=str(part.get("variances", 0)))))
    return lines
